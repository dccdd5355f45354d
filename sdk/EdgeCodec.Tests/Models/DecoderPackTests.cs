using System.IO.Compression;
using System.Security.Cryptography;
using EdgeCodec.Backends;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Models;
using EdgeCodec.Tests.Codec;

namespace EdgeCodec.Tests.Models;

/// <summary>
/// Format version 2: the identity is the manifest's hash, so a decoder-only copy (<see cref="ModelPack.WriteDecoderPack"/>)
/// names the same model and decodes the complete pack's streams.
/// </summary>
public sealed class DecoderPackTests
{
    /// <summary>The shipped pack, re-zipped as version 2 (its manifest says so, and nothing else changes; a shipped version-2 pack gets another identity, its manifest re-serialised).</summary>
    private static readonly Lazy<byte[]> s_v2 = new(() => PackEditor.EditManifest(File.ReadAllBytes(TestPacks.PackPath!), m => m["format_version"] = 2));

    private static byte[] Strip(byte[] pack, bool keepOnnx = false)
    {
        using var output = new MemoryStream();
        ModelPack.WriteDecoderPack(new MemoryStream(pack, writable: false), output, keepOnnx);
        return output.ToArray();
    }

    private static string[] EntryNames(byte[] pack)
    {
        using var zip = new ZipArchive(new MemoryStream(pack, writable: false), ZipArchiveMode.Read);
        return [.. zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal)];
    }

    private static string Named(ModelPack p) => $"edgecodec-hp-{p.Sha256[..12]}.ecpack";

    [PackFact]
    public void A_version_2_pack_is_identified_by_the_hash_of_its_manifest()
    {
        byte[] v2 = s_v2.Value;
        ModelPack pack = ModelPack.Load(new MemoryStream(v2));
        byte[] manifestHash = SHA256.HashData(PackEditor.Entry(v2, "manifest.json"));
        Assert.Equal(2, pack.FormatVersion);
        Assert.Equal(Convert.ToHexStringLower(manifestHash), pack.Sha256);
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(v2)), pack.Sha256);
        Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(manifestHash), pack.ModelId);
        Assert.Empty(pack.OmittedEntries);

        // The file name states the identity: the manifest's hash passes, the file's hash is a mismatch.
        Assert.Equal(pack.Sha256, ModelPack.Load(new MemoryStream(v2), Named(pack)).Sha256);
        string fileNamed = $"edgecodec-hp-{Convert.ToHexStringLower(SHA256.HashData(v2))[..12]}.ecpack";
        var ex = Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(v2), fileNamed));
        Assert.Equal(FormatError.CrcMismatch, ex.Error);
        Assert.Contains("manifest.json", ex.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void A_decoder_only_copy_keeps_the_identity_and_drops_every_onnx_graph()
    {
        byte[] v2 = s_v2.Value;
        ModelPack full = ModelPack.Load(new MemoryStream(v2));
        byte[] copy = Strip(v2);
        ModelPack stripped = ModelPack.Load(new MemoryStream(copy), Named(full)); // the full pack's name fits the copy too
        Assert.Equal(full.Sha256, stripped.Sha256);
        Assert.Equal(full.ModelId, stripped.ModelId);
        Assert.Empty(stripped.OnnxEntries);
        Assert.Equal(full.OnnxEntries, stripped.OmittedEntries);
        Assert.DoesNotContain(EntryNames(copy), n => n.StartsWith("onnx/", StringComparison.Ordinal));
        Assert.Equal(PackEditor.Entry(v2, "manifest.json"), PackEditor.Entry(copy, "manifest.json"));
        Assert.True(copy.Length < v2.Length * 0.4, $"{copy.Length} of {v2.Length} bytes");

        // The same source gives the same bytes, and a copy of a copy is the copy.
        Assert.Equal(copy, Strip(v2));
        Assert.Equal(copy, Strip(copy));

        // Keeping the ONNX synthesis keeps exactly the two synthesis graphs.
        ModelPack withOnnx = ModelPack.Load(new MemoryStream(Strip(v2, keepOnnx: true)));
        Assert.Equal([ModelPack.SynthesisFp32Entry, ModelPack.SynthesisQdqEntry], withOnnx.OnnxEntries);
        Assert.Equal(full.GetEntry(ModelPack.SynthesisQdqEntry).ToArray(), withOnnx.GetEntry(ModelPack.SynthesisQdqEntry).ToArray());
        Assert.Equal(full.Sha256, withOnnx.Sha256);
    }

    [PackFact]
    public void A_decoder_only_copy_decodes_the_complete_packs_streams_to_the_same_pixels()
    {
        byte[] v2 = s_v2.Value;
        ModelPack full = ModelPack.Load(new MemoryStream(v2));
        ModelPack stripped = ModelPack.Load(new MemoryStream(Strip(v2)));
        var image = CodecFixture.Crop(Imaging.ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png")), 0, 0, 192, 128);
        using var encoder = new EdgeCodecEncoder(full, new EncoderOptions { Threads = 2 });
        byte[] container = encoder.Encode(image, 2).ToContainerBytes();

        DecodedFrame Decode(ModelPack p) => EdgeCodecDecoder.Decode(p, new MemoryStream(container, writable: false), new DecoderOptions { Backend = "reference", Threads = 2 }).Frame;
        DecodedFrame a = Decode(full), b = Decode(stripped);
        Assert.True(b.IsComplete);
        Assert.Equal(a.Image.Pixels, b.Image.Pixels);
        Assert.True(CodecFixture.Psnr(image, b.Image) > 20);

        // The shipped (version-1) pack is another model: it refuses the stream by its id.
        var ex = Assert.Throws<EdgeCodecFormatException>(() => Decode(TestPacks.Pack));
        Assert.Contains($"{full.ModelId:x16}", ex.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void A_decoder_only_copy_refuses_to_encode_and_the_onnx_backends_say_why()
    {
        ModelPack stripped = ModelPack.Load(new MemoryStream(Strip(s_v2.Value)));
        var ex = Assert.Throws<NotSupportedException>(() => new EdgeCodecEncoder(stripped));
        Assert.Contains("decoder-only", ex.Message, StringComparison.Ordinal);
        Assert.Contains(ModelPack.AnalysisEntry, ex.Message, StringComparison.Ordinal);

        var named = Assert.Throws<NotSupportedException>(() => DecoderBackends.Resolve("onnx", stripped));
        Assert.Contains("decoder-only", named.Message, StringComparison.Ordinal);
        var log = new List<string>();
        DecoderBackend chosen = DecoderBackends.Resolve(DecoderBackends.Auto, stripped, log.Add);
        Assert.DoesNotContain("onnx", chosen.Name, StringComparison.Ordinal);
        Assert.Contains(log, l => l.Contains("skipping 'onnx'", StringComparison.Ordinal) && l.Contains("decoder-only", StringComparison.Ordinal));
    }

    [PackFact]
    public void An_adapter_for_the_complete_pack_applies_to_its_decoder_only_copy_alike()
    {
        byte[] v2 = s_v2.Value;
        ModelPack full = ModelPack.Load(new MemoryStream(v2));
        ModelPack stripped = ModelPack.Load(new MemoryStream(Strip(v2)));
        var adapter = EdgeCodec.Tests.Adapters.TestAdapters.Make(full, "darker", expert: 7, version: 1, scale: 0.9, biasShift: -50);
        ModelPack a = full.WithAdapter(adapter), b = stripped.WithAdapter(adapter);
        Assert.Equal(stripped.OmittedEntries, b.OmittedEntries);
        Assert.Equal(2, b.FormatVersion);

        var y = new EdgeCodec.Inference.I32Tensor(full.Layout.LatentChannels, 4, 4);
        var rng = new Random(43);
        for (int i = 0; i < y.Data.Length; i++)
        {
            y.Data[i] = rng.Next(-64, 65);
        }

        byte[] plain = new EdgeCodec.Inference.IntegerSynthesis(stripped).Run(y, 3).Pixels;
        byte[] adapted = new EdgeCodec.Inference.IntegerSynthesis(b).Run(y, 3).Pixels;
        Assert.Equal(new EdgeCodec.Inference.IntegerSynthesis(a).Run(y, 3).Pixels, adapted);
        Assert.NotEqual(plain, adapted);
    }

    [PackFact]
    public void Only_onnx_graphs_may_be_left_out_and_only_from_a_version_2_pack()
    {
        byte[] v2 = s_v2.Value;
        byte[] copy = Strip(v2);
        foreach (string kept in new[] { "weights.bin", "cdf/gaussian.json", "MODEL_CARD.md" })
        {
            var ex = Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(PackEditor.Rewrite(copy, (n, d) => n == kept ? null : d))));
            Assert.Equal(FormatError.Truncated, ex.Error);
            Assert.Contains(kept, ex.Message, StringComparison.Ordinal);
        }

        // Version 1: every listed entry must be present, and a copy without them is refused before it is written.
        byte[] v1 = PackEditor.EditManifest(v2, m => m["format_version"] = 1);
        Assert.Equal(1, ModelPack.Load(new MemoryStream(v1)).FormatVersion);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(v1)), ModelPack.Load(new MemoryStream(v1)).Sha256); // identity = hash of the file
        var missing = Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(PackEditor.Rewrite(v1, (n, d) => n == ModelPack.AnalysisEntry ? null : d))));
        Assert.Equal(FormatError.Truncated, missing.Error);
        using var sink = new MemoryStream();
        var refused = Assert.Throws<NotSupportedException>(() => ModelPack.WriteDecoderPack(new MemoryStream(v1), sink));
        Assert.Contains("version 1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, sink.Length);

        // A tampered entry of a copy is still caught by its hash, and a tampered manifest by the identity in the name.
        var tampered = Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(PackEditor.Rewrite(copy, (n, d) =>
            n == "cdf/gaussian.json" ? [.. d, (byte)' '] : d))));
        Assert.Equal(FormatError.CrcMismatch, tampered.Error);
        string name = Named(ModelPack.Load(new MemoryStream(copy)));
        byte[] edited = PackEditor.EditManifest(copy, m => m["name"] = "not-the-model");
        Assert.Equal(FormatError.CrcMismatch, Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(edited), name)).Error);
    }
}
