using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Inference;
using EdgeCodec.Tests.Codec;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Adapters;

/// <summary>The trained adapters shipped in <c>models/adapters</c>: signed, fitting the shipped pack, runnable on every backend.</summary>
public sealed class ShippedAdapterTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static string Folder => Path.Combine(TestPacks.RepositoryRoot, "models", "adapters");

    private static AdapterPackage Load(string id) => AdapterPackage.Read(File.ReadAllBytes(Path.Combine(Folder, id + ".ecadapter")));

    private DecodedFrame Decode(byte[] container, string backend, IAdapterSource adapters)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(fixture.Pack, ms, new DecoderOptions { Backend = backend, Threads = 2, Adapters = adapters }).Frame;
    }

    [PackFact]
    public void Screen_content_is_signed_small_and_made_for_the_shipped_pack() => CheckShipped("screen-content");

    [PackFact]
    public void Illustrations_is_signed_small_and_made_for_the_shipped_pack() => CheckShipped("illustrations");

    private void CheckShipped(string id)
    {
        var adapter = Load(id);
        using var trust = AdapterTrustStore.FromDirectory(Path.Combine(Folder, "trust"));
        adapter.VerifySignature(trust);
        Assert.Equal(fixture.Pack.Sha256, adapter.Manifest.BaseModelSha256);
        Assert.True(adapter.HasOnnxSynthesis);
        // Small: 2 numbers per output channel of every synthesis conv (2,008 for the six of the grown g_s), well under
        // 5 % of g_s (900,140 parameters).
        int channels = fixture.Pack.SynthesisGraph.Nodes.OfType<ConvNode>().Sum(c => c.OutChannels);
        Assert.Equal(2 * channels, adapter.Manifest.ParameterCount);
        Assert.True(adapter.Manifest.ParameterCount < 900_140 / 20);
        Assert.True(adapter.ToBytes().Length < 32 << 10);
        _ = fixture.Pack.WithAdapter(adapter); // layers fit and the ONNX patch applies (hashes checked)
    }

    [PackFact]
    public void The_onnx_form_decodes_like_the_integer_form_and_unlike_the_base()
    {
        var adapter = Load("screen-content");
        var set = new AdapterSet(fixture.Pack, [adapter]);
        var encoded = fixture.Encoded(2);
        byte[] routed = AdapterDecodeTests.WithExpert(encoded, adapter.Manifest.ExpertId);

        var integer = Decode(routed, "reference", set);
        var onnx = Decode(routed, "onnx", set);
        var onnxBase = Decode(encoded.ToContainerBytes(), "onnx", set);
        Assert.Empty(integer.TilesWithoutAdapter);
        Assert.Empty(onnx.TilesWithoutAdapter);
        Assert.Equal("onnx", onnx.Backend);

        // Backends may differ in the synthesis only within tolerance; the adapter itself must show.
        double agreement = CodecFixture.Psnr(integer.Image, onnx.Image);
        double change = CodecFixture.Psnr(onnxBase.Image, onnx.Image);
        Assert.True(agreement > 35, $"onnx vs integer adapter decode: {agreement:F2} dB");
        Assert.True(change < agreement - 3, $"adapter vs base under onnx: {change:F2} dB, onnx vs integer {agreement:F2} dB");
    }

    [PackFact]
    public void A_patch_for_another_graph_or_a_damaged_patch_is_refused_with_a_clear_error()
    {
        var adapter = Load("illustrations");
        byte[] patch = adapter.OnnxPatchBytes!;
        byte[] graph = fixture.Pack.GetEntry(EdgeCodec.Models.ModelPack.SynthesisQdqEntry).ToArray();

        var wrongBase = (byte[])graph.Clone();
        wrongBase[^1] ^= 1;
        var e1 = Assert.Throws<AdapterVerificationException>(() => OnnxPatch.Apply(wrongBase, patch, "x"));
        Assert.Contains("another synthesis graph", e1.Message, StringComparison.Ordinal);

        var damaged = (byte[])patch.Clone();
        damaged[^1] ^= 1; // a changed value: the result is not the promised graph
        Assert.Contains("not the one the patch promises", Assert.Throws<AdapterVerificationException>(() => OnnxPatch.Apply(graph, damaged, "x")).Message, StringComparison.Ordinal);

        Assert.Contains("truncated", Assert.Throws<AdapterVerificationException>(() => OnnxPatch.Apply(graph, patch.AsSpan(0, patch.Length - 10), "x")).Message, StringComparison.Ordinal);
        Assert.Throws<AdapterVerificationException>(() => OnnxPatch.Apply(graph, patch.AsSpan(0, 20), "x"));
        Assert.Equal(graph.Length, OnnxPatch.Apply(graph, patch, "x").Length);
    }
}
