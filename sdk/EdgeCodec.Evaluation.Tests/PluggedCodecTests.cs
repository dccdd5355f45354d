using System.Text.Json;
using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation.Tests;

/// <summary>How a future codec plugs into the harness: any <see cref="IRdCodec"/> can be the test codec.</summary>
public sealed class PluggedCodecTests
{
    [Fact]
    public void A_codec_that_saves_a_fifth_of_webp_bits_reports_minus_20_percent_vs_webp_and_both_baselines()
    {
        RgbImage crop = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim23.png")), 300, 200, 192, 192);
        int[] levels = [20, 40, 60, 80, 95];
        var evaluator = new RdEvaluator([new JpegCodec(levels), new WebpCodec(levels), new FourFifthsOfWebp(levels)])
        {
            TestCodec = "fake",
        };

        RdReport report = evaluator.Evaluate([("crop", crop)]);
        using var stream = new MemoryStream();
        report.WriteJson(stream);
        JsonElement summary = JsonDocument.Parse(stream.ToArray()).RootElement.GetProperty("summary");

        Assert.Equal("fake", summary.GetProperty("test_codec").GetString());
        // Bytes are rounded to whole numbers, so -20 % holds to about 1/(5 * bytes), far inside 0.1 points.
        Assert.Equal(-20.0, summary.GetProperty("bd_rate_vs_webp").GetDouble(), 0.1);
        Assert.True(summary.GetProperty("bd_rate_vs_jpeg").GetDouble() < -20.0);
    }

    [Fact]
    public void Adapter_runs_report_bd_rate_vs_no_adapters_and_summed_counters()
    {
        // "edgecodec" = WebP at 4/5 of its bytes with per-run counters (as EdgeCodec reports tiles per expert);
        // the anchor named RdSummary.NoAdaptersAnchor is plain WebP: BD-rate vs no adapters must be -20 %.
        RgbImage crop = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim23.png")), 300, 200, 192, 192);
        int[] levels = [20, 40, 60, 80, 95];
        var evaluator = new RdEvaluator([new FourFifthsOfWebp(levels, "edgecodec", counts: true), new Renamed(new WebpCodec(levels), RdSummary.NoAdaptersAnchor)])
        {
            TestCodec = "edgecodec",
        };

        RdReport report = evaluator.Evaluate([("crop", crop)]);
        Assert.Equal(-20.0, report.Summary.BdRateVsNoAdapters!.Value, 0.1);
        Assert.Equal(new Dictionary<string, long> { ["tiles_expert_0"] = 5, ["tiles_expert_1"] = 10 }, report.Summary.Counts);

        using var stream = new MemoryStream();
        report.WriteJson(stream);
        JsonElement summary = JsonDocument.Parse(stream.ToArray()).RootElement.GetProperty("summary");
        Assert.Equal(-20.0, summary.GetProperty("bd_rate_vs_no_adapters").GetDouble(), 0.1);
        Assert.Equal(10, summary.GetProperty("counts").GetProperty("tiles_expert_1").GetInt64());

        // Without the anchor the field is null, and codecs without counters leave counts null.
        var plain = new RdEvaluator([new WebpCodec(levels), new JpegCodec(levels)]).Evaluate([("crop", crop)]);
        Assert.Null(plain.Summary.BdRateVsNoAdapters);
        Assert.Null(plain.Summary.Counts);
    }

    private sealed class Renamed(IRdCodec inner, string name) : IRdCodec
    {
        public string Name => name;

        public IReadOnlyList<int> QualityLevels => inner.QualityLevels;

        public RdSample Run(RgbImage image, int quality) => inner.Run(image, quality);
    }

    /// <summary>WebP with every file claimed to be 4/5 of its real size: a codec with a known BD-rate.</summary>
    private sealed class FourFifthsOfWebp(IReadOnlyList<int> levels, string name = "fake", bool counts = false) : IRdCodec
    {
        private readonly WebpCodec _webp = new(levels);

        public string Name => name;

        public IReadOnlyList<int> QualityLevels => _webp.QualityLevels;

        public RdSample Run(RgbImage image, int quality)
        {
            RdSample sample = _webp.Run(image, quality);
            return sample with
            {
                Bytes = (long)Math.Round(sample.Bytes * 0.8),
                Counts = counts ? new Dictionary<string, long> { ["tiles_expert_0"] = 1, ["tiles_expert_1"] = 2 } : null,
            };
        }
    }
}
