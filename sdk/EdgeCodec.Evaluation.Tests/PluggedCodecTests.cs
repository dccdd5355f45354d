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

    /// <summary>WebP with every file claimed to be 4/5 of its real size: a codec with a known BD-rate.</summary>
    private sealed class FourFifthsOfWebp(IReadOnlyList<int> levels) : IRdCodec
    {
        private readonly WebpCodec _webp = new(levels);

        public string Name => "fake";

        public IReadOnlyList<int> QualityLevels => _webp.QualityLevels;

        public RdSample Run(RgbImage image, int quality)
        {
            RdSample sample = _webp.Run(image, quality);
            return sample with { Bytes = (long)Math.Round(sample.Bytes * 0.8) };
        }
    }
}
