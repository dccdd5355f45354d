using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Qnn.Tests;

/// <summary>The QNN backend's whole path up to the device, with the device step swapped for ORT's CPU EP.</summary>
public sealed class QnnStandInDecodeTests
{
    [Fact]
    public void An_adapter_gets_its_own_context_cache_identity_and_runs_on_the_npu_path()
    {
        // The adapter view shares the pack's hash but carries a patched QDQ graph: the compiled-context cache must be
        // keyed by the graph, or an NPU would run the base synthesis for adapted tiles.
        var pack = ModelPack.LoadDefault();
        string file = Path.Combine(FindRoot(), "models", "adapters", "screen-content.ecadapter");
        var adapted = pack.WithAdapter(EdgeCodec.Adapters.AdapterPackage.Read(File.ReadAllBytes(file)));
        var standIn = new QnnBackend(new QnnOptions(), () => new CpuStandInSelector());
        Assert.True(standIn.IsAvailable(adapted, out _));
        using var baseSession = (QnnSynthesisSession)standIn.Create(pack, BackendOptions.Default);
        using var again = (QnnSynthesisSession)standIn.Create(pack, BackendOptions.Default);
        using var adapterSession = (QnnSynthesisSession)standIn.Create(adapted, BackendOptions.Default);
        Assert.Equal(baseSession.GraphSha256, again.GraphSha256);
        Assert.NotEqual(baseSession.GraphSha256, adapterSession.GraphSha256);
        Assert.Equal(pack.Sha256, adapted.Sha256);

        var yq = new byte[pack.Layout.LatentChannels * 3 * 4];
        new Random(4).NextBytes(yq);
        var a = new byte[3 * 16 * 4 * 16 * 3];
        var b = new byte[a.Length];
        baseSession.Synthesize(yq, 3, 4, a);
        adapterSession.Synthesize(yq, 3, 4, b);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Stand_in_decode_stays_within_tolerance_of_the_integer_reference()
    {
        var pack = ModelPack.LoadDefault();
        string root = FindRoot();
        var image = ImageFile.Load(Path.Combine(root, "samples", "media", "coffee.png"));
        byte[] container;
        using (var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, TileSize = 128 }))
        {
            container = encoder.Encode(image, 2).ToContainerBytes();
        }

        var standIn = new QnnBackend(new QnnOptions(), () => new CpuStandInSelector());
        Assert.True(standIn.IsAvailable(pack, out _));
        using var session = (QnnSynthesisSession)standIn.Create(pack, BackendOptions.Default);

        // Drive the session with the decoder's windows via a one-off registration under a private name.
        DecoderBackends.Register(new Named("qnn-standin", session));
        var reference = Decode(pack, container, "reference");
        var npu = Decode(pack, container, "qnn-standin");
        double se = reference.Pixels.Zip(npu.Pixels, (a, b) => (double)(a - b) * (a - b)).Sum();
        double psnr = 10 * Math.Log10(255.0 * 255.0 * reference.Pixels.Length / Math.Max(se, 1e-9));
        Assert.True(psnr > 35, $"stand-in vs reference: {psnr:F2} dB");
        Assert.InRange(session.Shapes.Count, 2, 9); // one static shape per distinct window: interior, edges, corners
    }

    [Fact]
    public void A_graph_the_device_cannot_take_fails_loudly_instead_of_running_on_the_cpu()
    {
        var pack = ModelPack.LoadDefault();
        var npuThatTakesNothing = new QnnBackend(new QnnOptions(), () => new CpuStandInSelector(runsOnCpu: false));
        using var session = npuThatTakesNothing.Create(pack, BackendOptions.Default);
        var yq = new byte[pack.Layout.LatentChannels * 2 * 2];
        var ex = Assert.ThrowsAny<Exception>(() => session.Synthesize(yq, 2, 2, new byte[32 * 32 * 3]));
        Assert.Contains("fallback to CPU EP has been explicitly disabled", ex.Message, StringComparison.Ordinal);
    }

    private static RgbImage Decode(ModelPack pack, byte[] container, string backend)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(pack, ms, new DecoderOptions { Backend = backend, Threads = 1 }).Frame.Image;
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "EdgeCodec.sln")))
            {
                return d.FullName;
            }
        }

        throw new DirectoryNotFoundException("EdgeCodec.sln not found");
    }

    /// <summary>Hands an existing session to the decoder (it disposes backends it creates, so wrap without owning).</summary>
    private sealed class Named(string name, ISynthesisBackend inner) : DecoderBackend
    {
        public override string Name => name;

        public override int Priority => -1;

        public override bool IsAvailable(ModelPack pack, out string reason)
        {
            reason = string.Empty;
            return true;
        }

        public override ISynthesisBackend Create(ModelPack pack, BackendOptions options) => new NonOwning(inner);

        private sealed class NonOwning(ISynthesisBackend inner) : ISynthesisBackend
        {
            public string Name => inner.Name;

            public bool IsThreadSafe => inner.IsThreadSafe;

            public bool PrefersTileWindows => inner.PrefersTileWindows;

            public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb) => inner.Synthesize(yq, height, width, rgb);

            public void Dispose()
            {
            }
        }
    }
}
