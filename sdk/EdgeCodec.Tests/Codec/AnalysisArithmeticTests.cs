using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>
/// <see cref="EncoderOptions.Analysis"/> picks the pack entry the encoder's g_a runs from. (That the int8 analysis of the
/// shipped weights codes within 3 % bytes and 0.1 dB of the fp32 one is an end-to-end test on the Python side:
/// <c>test_the_shipped_pack_encodes_with_the_int8_analysis_of_its_weights</c>.)
/// </summary>
public sealed class AnalysisArithmeticTests
{
    private static byte[] PackBytes => File.ReadAllBytes(TestPacks.PackPath!);

    private static RgbImage Coffee => ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));

    private static ModelPack WithoutInt8Analysis() => ModelPack.Load(new MemoryStream(PackEditor.EditManifest(
        PackEditor.Rewrite(PackBytes, (name, data) => name == ModelPack.AnalysisInt8Entry ? null : data),
        m => m["files"]!.AsObject().Remove(ModelPack.AnalysisInt8Entry))));

    private static ModelPack WithInt8Analysis(byte[] graph) =>
        ModelPack.Load(new MemoryStream(PackEditor.AddEntry(PackBytes, ModelPack.AnalysisInt8Entry, graph, _ => { })));

    [PackFact]
    public void An_int8_analysis_the_pack_lacks_is_a_clear_error_and_float_still_encodes()
    {
        var pack = WithoutInt8Analysis();
        Assert.False(pack.HasEntry(ModelPack.AnalysisInt8Entry));
        var error = Assert.Throws<NotSupportedException>(() => new EdgeCodecEncoder(pack, new EncoderOptions { Analysis = AnalysisArithmetic.Int8 }));
        Assert.Contains(ModelPack.AnalysisInt8Entry, error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(AnalysisArithmetic.Float32), error.Message, StringComparison.Ordinal);
        using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Analysis = AnalysisArithmetic.Float32 });
        Assert.True(encoder.Encode(Coffee, 1).PayloadBytes > 0);
    }

    [PackFact]
    public void The_int8_setting_runs_the_int8_entry()
    {
        var pack = TestPacks.Pack;
        byte[] fp32 = pack.GetEntry(ModelPack.AnalysisEntry).ToArray();
        // The entry is what runs: a copy of the fp32 graph in its place writes the fp32 stream's packets, byte for byte
        // (the container headers differ: they name the pack) ...
        byte[] Encode(ModelPack p, AnalysisArithmetic a)
        {
            using var encoder = new EdgeCodecEncoder(p, new EncoderOptions { Threads = 1, Analysis = a });
            return [.. encoder.Encode(Coffee, 2).Packets.SelectMany(packet => packet.Payload.ToArray())];
        }

        Assert.Equal(Encode(pack, AnalysisArithmetic.Float32), Encode(WithInt8Analysis(fp32), AnalysisArithmetic.Int8));
        // ... and a damaged graph there is a malformed pack, named, when the encoder is made, while the fp32 setting does
        // not read it.
        var broken = WithInt8Analysis(fp32[..(fp32.Length / 2)]);
        var error = Assert.Throws<EdgeCodecFormatException>(() => new EdgeCodecEncoder(broken, new EncoderOptions { Analysis = AnalysisArithmetic.Int8 }));
        Assert.Equal(EdgeCodec.Format.FormatError.Malformed, error.Error);
        Assert.Contains(ModelPack.AnalysisInt8Entry, error.Message, StringComparison.Ordinal);
        using var stillFine = new EdgeCodecEncoder(broken, new EncoderOptions { Analysis = AnalysisArithmetic.Float32 });
    }

    [Int8AnalysisFact]
    public void The_shipped_int8_analysis_codes_within_a_little_of_the_fp32_one()
    {
        // Measured on Kodak with pack 2c6a7815b8f0 plus the int8 analysis of its weights: +0.54 % BD-rate, at most
        // 0.03 dB and 0.3 % rate per level (docs/benchmarks.md, "The int8 analysis"). One picture is noisier than 24.
        var pack = TestPacks.Pack;
        (long Bytes, double Psnr, byte[] Payload) Run(AnalysisArithmetic a)
        {
            using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 1, Analysis = a });
            var encoded = encoder.Encode(Coffee, 3);
            byte[] container = encoded.ToContainerBytes();
            using var ms = new MemoryStream(container, writable: false);
            var frame = EdgeCodecDecoder.Decode(pack, ms, new DecoderOptions { Backend = "reference" }).Frame;
            return (container.Length, CodecFixture.Psnr(Coffee, frame.Image), [.. encoded.Packets.SelectMany(p => p.Payload.ToArray())]);
        }

        var (fBytes, fPsnr, fPayload) = Run(AnalysisArithmetic.Float32);
        var (qBytes, qPsnr, qPayload) = Run(AnalysisArithmetic.Int8);
        Assert.NotEqual(fPayload, qPayload); // a different graph ran
        Assert.InRange((double)qBytes / fBytes, 0.97, 1.03);
        Assert.InRange(qPsnr - fPsnr, -0.1, 0.1);
    }

    [Fact]
    public void Analysis_defaults_to_float32() => Assert.Equal(AnalysisArithmetic.Float32, new EncoderOptions().Analysis);
}

/// <summary>A fact that is skipped, with the reason, when the shipped pack has no int8 analysis (packs before session 41).</summary>
public sealed class Int8AnalysisFactAttribute : FactAttribute
{
    public Int8AnalysisFactAttribute()
    {
        if (TestPacks.PackPath is null)
        {
            Skip = TestPacks.MissingPack;
        }
        else if (!TestPacks.Pack.HasEntry(ModelPack.AnalysisInt8Entry))
        {
            Skip = $"The shipped pack has no {ModelPack.AnalysisInt8Entry} (packs exported since session 41 have it).";
        }
    }
}
