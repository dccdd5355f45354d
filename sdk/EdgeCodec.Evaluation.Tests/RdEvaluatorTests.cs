using System.Text.Json;
using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation.Tests;

public sealed class RdEvaluatorTests
{
    private static readonly Lazy<RdReport> Report = new(RunSmallEvaluation);

    [Fact]
    public void Json_has_the_documented_fields_and_WebP_beats_JPEG()
    {
        using var stream = new MemoryStream();
        Report.Value.WriteJson(stream);
        using JsonDocument json = JsonDocument.Parse(stream.ToArray());
        JsonElement root = json.RootElement;

        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.Equal("webp", root.GetProperty("test_codec").GetString());
        JsonElement summary = root.GetProperty("summary");
        Assert.Equal(2, summary.GetProperty("image_count").GetInt32());
        double vsJpeg = summary.GetProperty("bd_rate_vs_jpeg").GetDouble();
        Assert.True(double.IsFinite(vsJpeg));
        Assert.True(vsJpeg < 0, $"WebP vs JPEG BD-rate {vsJpeg:F2}% should be negative");
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("bd_rate_vs_webp").ValueKind);
        Assert.Equal(vsJpeg, summary.GetProperty("bd_rate_vs").GetProperty("jpeg").GetDouble());

        JsonElement comparison = root.GetProperty("comparisons")[0];
        Assert.Equal("jpeg", comparison.GetProperty("anchor").GetString());
        Assert.True(comparison.GetProperty("bd_rate_per_image_mean").GetDouble() < 0);
        Assert.Equal(2, comparison.GetProperty("per_image_count").GetInt32());
        Assert.True(comparison.GetProperty("bd_psnr").GetDouble() > 0);

        JsonElement image = root.GetProperty("images")[0];
        Assert.Equal("kodim23", image.GetProperty("name").GetString());
        JsonElement m = image.GetProperty("measurements")[0];
        foreach (string field in new[] { "codec", "quality", "bytes", "bpp", "psnr", "ms_ssim", "ms_ssim_db", "encode_seconds", "decode_seconds" })
        {
            Assert.True(m.TryGetProperty(field, out _), $"measurement lacks '{field}'");
        }

        JsonElement curve = root.GetProperty("average_curves")[1];
        Assert.Equal("webp", curve.GetProperty("codec").GetString());
        Assert.Equal(6, curve.GetProperty("points").GetArrayLength());
    }

    [Fact]
    public void A_saved_report_reads_back_with_the_same_curves_and_deltas()
    {
        using var stream = new MemoryStream();
        Report.Value.WriteJson(stream);
        stream.Position = 0;
        RdReport read = RdReport.ReadJson(stream);

        Assert.Equal(Report.Value.TestCodec, read.TestCodec);
        Assert.Equal(Report.Value.Images.Count, read.Images.Count);
        Assert.Equal(Report.Value.Summary.BdRateVsJpeg, read.Summary.BdRateVsJpeg);
        RdCurve jpeg = read.AverageCurves.Single(c => c.Codec == "jpeg"), webp = read.AverageCurves.Single(c => c.Codec == "webp");
        Assert.Equal(Report.Value.Summary.BdRateVsJpeg!.Value, BjontegaardDelta.BdRate(jpeg.ToPoints(), webp.ToPoints()), 1e-9);

        byte[] text = stream.ToArray();
        Assert.Throws<InvalidDataException>(() => RdReport.ReadJson(new MemoryStream(text[..(text.Length / 2)])));
        Assert.Throws<InvalidDataException>(() => RdReport.ReadJson(new MemoryStream("{\"schema_version\": 1}"u8.ToArray())));
        byte[] future = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(text).Replace("\"schema_version\": 1", "\"schema_version\": 9", StringComparison.Ordinal));
        Assert.Throws<InvalidDataException>(() => RdReport.ReadJson(new MemoryStream(future)));
    }

    [Fact]
    public void Measurements_are_consistent()
    {
        foreach (RdImageResult image in Report.Value.Images)
        {
            Assert.Equal(12, image.Measurements.Count);
            foreach (RdMeasurement m in image.Measurements)
            {
                Assert.Equal(m.Bytes * 8.0 / (image.Width * image.Height), m.Bpp, 12);
                Assert.InRange(m.Psnr, 20, 60);
                Assert.InRange(m.MsSsim, 0.8, 1.0);
            }
        }

        RdCurve jpeg = Report.Value.AverageCurves[0];
        Assert.Equal(Report.Value.Images.Average(i => i.Measurements[0].Bpp), jpeg.Points[0].Bpp, 12);
    }

    [Fact]
    public void Plot_is_a_valid_png()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgecodec-rd-{Guid.NewGuid():N}.png");
        try
        {
            RdPlot.Save(Report.Value, path);

            RgbImage plot = ImageFile.Load(path);
            Assert.Equal(1600, plot.Width);
            Assert.Equal(600, plot.Height);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(path)[..4]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Progress_counts_every_run()
    {
        RgbImage crop = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim23.png")), 0, 0, 168, 168);
        var seen = new List<RdProgress>();
        var evaluator = new RdEvaluator([new JpegCodec([20, 40, 60, 80])]);

        evaluator.Evaluate([("a", crop)], new SynchronousProgress(p => { lock (seen) { seen.Add(p); } }));

        Assert.Equal(4, seen.Count);
        Assert.All(seen, p => Assert.Equal(4, p.Total));
        Assert.Equal(4, seen.Max(p => p.Completed));
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        var evaluator = new RdEvaluator([new JpegCodec()]);
        var big = new RgbImage(200, 200);

        Assert.Throws<ArgumentException>(() => new RdEvaluator([]));
        Assert.Throws<ArgumentException>(() => new RdEvaluator([new JpegCodec(), new JpegCodec()]));
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate([]));
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate([("x", new RgbImage(100, 200))]));
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate([("x", big), ("x", big)]));
        Assert.Throws<ArgumentException>(() => new RdEvaluator([new JpegCodec()]) { TestCodec = "nope" }.Evaluate([("x", big)]));
        Assert.Throws<ArgumentException>(() => new WebpCodec([5, 5]));
        Assert.Throws<ArgumentException>(() => new WebpCodec([0]));
    }

    [Fact]
    public void The_default_WebP_sweep_reaches_below_quality_5()
    {
        // libwebp's quality 5 is already 28.3 dB on Kodak; qualities 1..4 give the low-rate anchors a learned
        // codec's lower curve needs, so they must really cost fewer bits and give less quality than 5.
        var webp = new WebpCodec();
        Assert.Equal([1, 2, 3, 4, 5, 10], webp.QualityLevels.Take(6));
        RgbImage image = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim23.png")), 256, 160, 256, 192);
        RdSample q1 = webp.Run(image, 1), q5 = webp.Run(image, 5);
        Assert.True(q1.Bytes < q5.Bytes, $"{q1.Bytes} vs {q5.Bytes} bytes");
        Assert.True(Metrics.Psnr(image, q1.Reconstruction) < Metrics.Psnr(image, q5.Reconstruction));
    }

    private static RdReport RunSmallEvaluation()
    {
        // Two 256x192 crops of real photographs: big enough for MS-SSIM, small enough for a unit test.
        RgbImage a = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim23.png")), 256, 160, 256, 192);
        RgbImage b = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim05.png")), 128, 128, 256, 192);
        int[] levels = [20, 35, 50, 65, 80, 95];
        var evaluator = new RdEvaluator([new JpegCodec(levels), new WebpCodec(levels)]) { TestCodec = "webp" };
        return evaluator.Evaluate([("kodim23", a), ("kodim05", b)]);
    }

    /// <summary>Unlike <see cref="Progress{T}"/>, reports on the calling thread so the test sees every call before asserting.</summary>
    private sealed class SynchronousProgress(Action<RdProgress> report) : IProgress<RdProgress>
    {
        public void Report(RdProgress value) => report(value);
    }
}
