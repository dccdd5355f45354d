using System.Security.Cryptography;
using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Streaming.Tests;

/// <summary>
/// Deploying a domain adapter over the streaming session: the device's HELLO lists what it holds, the sender pushes
/// what is missing in resumable chunks, the device installs it into a real <see cref="AdapterRegistry"/> only after
/// verification, and the following frames decode with it.
/// </summary>
public sealed class AdapterPushTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private const ushort Expert = 7;

    /// <summary>A real adapter for the real pack: every synthesis conv retuned (per-channel scale and bias).</summary>
    private static AdapterPackage MakeAdapter(ModelPack pack, ECDsa key, double scale = 1.02)
    {
        var layers = pack.GetGraph("synthesis").Nodes.OfType<ConvNode>().Select(conv => new AdapterLayer(conv.Output,
            [.. conv.Bias.Select(b => b + 3)],
            [.. conv.Mult.Select(m => (int)Math.Clamp(Math.Round(m * scale), 1, int.MaxValue))],
            [.. conv.Shift])).ToList();
        var manifest = new AdapterManifest { Id = "push-test", ExpertId = Expert, Domain = "screen", Version = 1, BaseModelSha256 = pack.Sha256 };
        return AdapterPackage.Create(manifest, layers).Sign(key);
    }

    private static (ECDsa Key, AdapterTrustStore Trust) Publisher()
    {
        var (priv, pub) = AdapterKeys.Create();
        var trust = new AdapterTrustStore();
        trust.Add(pub);
        return (AdapterKeys.Import(priv), trust);
    }

    private static StreamSender Sender(CodecFixture f, AdapterPackage adapter, int chunk = 16 << 10) => new(new StreamSenderOptions
    {
        ModelId = f.Pack.ModelId, StreamId = Synthetic.StreamId, Adapters = [adapter], AdapterChunkSize = chunk,
        MinRetransmitTimeout = TimeSpan.FromMilliseconds(50), KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
    });

    private static StreamReceiver Receiver(CodecFixture f, AdapterRegistry? registry, IReadOnlyList<ushort>? held = null) => new(new StreamReceiverOptions
    {
        ModelId = f.Pack.ModelId, AdapterIds = held ?? [], InstallAdapter = registry is null ? null : bytes => registry.Install(bytes),
        KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
    });

    private async Task SendFramesAsync(StreamSender sender, EncodedImage frame)
    {
        await sender.EnqueueAsync(frame);
        sender.Complete();
    }

    [Fact]
    public async Task A_missing_adapter_is_pushed_verified_installed_and_used_by_the_next_frames()
    {
        var (key, trust) = Publisher();
        var adapter = MakeAdapter(fixture.Pack, key);
        string store = Synthetic.TempDirectory();
        var registry = new AdapterRegistry(store, fixture.Pack, trust);
        var sender = Sender(fixture, adapter);
        using var receiver = Receiver(fixture, registry);
        var events = new List<AdapterReceivedEventArgs>();
        receiver.AdapterReceived += (_, e) => events.Add(e);

        // A frame whose tiles name the adapter's expert (as the encoder's router writes it when the adapter wins).
        var encoded = fixture.Frames[0];
        var routed = encoded.Packets.Select(p => new LatentPacket
        {
            StreamId = p.StreamId, Sequence = p.Sequence, FrameIndex = p.FrameIndex, TileIndex = p.TileIndex, Layer = p.Layer,
            ExpertId = Expert, ModelId = p.ModelId, Payload = p.Payload,
        }).ToList();
        var before = Decode(fixture, encoded.Header, routed, registry);
        Assert.Equal(encoded.Header.TileCount, before.TilesWithoutAdapter.Count); // not installed yet: base synthesis, reported

        await sender.EnqueueAsync(encoded.Header, routed);
        sender.Complete();
        await Sessions.FinishAsync(sender, receiver);

        var installed = Assert.Single(registry.List());
        Assert.Equal("push-test", installed.Id);
        var e = Assert.Single(events);
        Assert.True(e.Installed, e.Problem);
        Assert.Equal(Expert, e.ExpertId);
        Assert.Equal(1, sender.Statistics.AdaptersInstalled);
        Assert.Equal(adapter.ToBytes().Length, sender.Statistics.AdapterBytesSent);
        Assert.Equal(1, receiver.Statistics.AdaptersInstalled);

        // The device decodes the same packets with the adapter it just installed: no tile falls back to the base.
        var after = Decode(fixture, encoded.Header, routed, registry);
        Assert.Empty(after.TilesWithoutAdapter);
        Assert.All(after.ExpertsPerTile, e => Assert.Equal(Expert, e));
        Assert.NotEqual(before.Image.Pixels, after.Image.Pixels);
    }

    private static DecodedFrame Decode(CodecFixture f, ContainerHeader header, IReadOnlyList<LatentPacket> packets, IAdapterSource adapters)
    {
        using var decoder = new EdgeCodecDecoder(f.Pack, new DecoderOptions { Backend = "reference", Adapters = adapters });
        decoder.SetHeader(header);
        foreach (var p in packets)
        {
            decoder.SendPacket(p);
        }

        return decoder.DecodeFrame(packets[0].FrameIndex);
    }

    [Fact]
    public async Task An_adapter_the_device_already_holds_is_not_sent()
    {
        var (key, trust) = Publisher();
        var adapter = MakeAdapter(fixture.Pack, key);
        var registry = new AdapterRegistry(Synthetic.TempDirectory(), fixture.Pack, trust);
        var sender = Sender(fixture, adapter);
        using var receiver = Receiver(fixture, registry, held: [Expert]);
        await SendFramesAsync(sender, fixture.Frames[0]);
        await Sessions.FinishAsync(sender, receiver);
        Assert.Equal(0, sender.Statistics.AdapterBytesSent);
        Assert.Empty(registry.List());
        Assert.Contains(Expert, sender.PeerAdapterIds);
    }

    [Fact]
    public async Task A_package_signed_by_an_untrusted_key_is_refused_and_the_stream_still_completes()
    {
        var (key, _) = Publisher();
        var (_, otherTrust) = Publisher();
        var adapter = MakeAdapter(fixture.Pack, key);
        var registry = new AdapterRegistry(Synthetic.TempDirectory(), fixture.Pack, otherTrust);
        var sender = Sender(fixture, adapter);
        using var receiver = Receiver(fixture, registry);
        AdapterReceivedEventArgs? seen = null;
        receiver.AdapterReceived += (_, e) => seen = e;
        await SendFramesAsync(sender, fixture.Frames[0]);
        await Sessions.FinishAsync(sender, receiver);

        Assert.NotNull(seen);
        Assert.False(seen!.Installed);
        Assert.Contains("trust", seen.Problem!, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(registry.List());
        Assert.Equal(1, sender.Statistics.AdaptersRejected);
        Assert.Equal(fixture.Frames[0].Packets.Count, receiver.Statistics.PacketsApplied);
    }

    [Fact]
    public async Task A_device_without_an_installer_refuses_pushes_instead_of_stalling_the_sender()
    {
        var (key, _) = Publisher();
        var sender = Sender(fixture, MakeAdapter(fixture.Pack, key));
        using var receiver = Receiver(fixture, registry: null);
        await SendFramesAsync(sender, fixture.Frames[0]);
        await Sessions.FinishAsync(sender, receiver);
        Assert.Equal(1, sender.Statistics.AdaptersRejected);
        Assert.True(sender.IsFinished);
    }

    [Fact]
    public async Task A_cut_transfer_resumes_where_the_device_stopped_and_installs_once()
    {
        var (key, trust) = Publisher();
        var adapter = MakeAdapter(fixture.Pack, key);
        int total = adapter.ToBytes().Length;
        const int chunk = 1 << 10;
        Assert.True(total > 8 * chunk, $"package of {total} bytes is too small for this test");
        var registry = new AdapterRegistry(Synthetic.TempDirectory(), fixture.Pack, trust);
        var sender = Sender(fixture, adapter, chunk);
        using var receiver = Receiver(fixture, registry);
        await sender.EnqueueAsync(fixture.Frames[0]);
        sender.Complete();

        // First connection: the sender's stream fails after a few writes (HELLO, then windows of 4 chunks).
        var link = new MemoryLink();
        var faulty = link.SenderStream(failAfterWrites: 3);
        var s = Sessions.Swallow(sender.RunAsync(faulty));
        var r = Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe));
        Assert.IsType<IOException>(await s.WaitAsync(TimeSpan.FromSeconds(10)));
        await faulty.DisposeAsync();
        await r.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(registry.List());
        long firstConnection = sender.Statistics.AdapterBytesSent;
        Assert.InRange(firstConnection, chunk, total); // the last window may have died in the failed write

        await Sessions.FinishAsync(sender, receiver);
        Assert.Single(registry.List());
        Assert.Equal(1, receiver.Statistics.AdaptersInstalled);
        // Resumed, not restarted: at most the unconfirmed windows (4 chunks on each side of the cut) go twice.
        Assert.InRange(sender.Statistics.AdapterBytesSent, total, total + (8 * chunk));
        Assert.True(sender.Statistics.AdapterBytesSent < 2L * total);
    }
}
