using EdgeCodec.Imaging;

namespace EdgeCodec.Benchmarks;

/// <summary>Stopwatch measurement of YUV ↔ RGB conversion on one core: each layout through the selected kernels, and
/// I420 through the scalar references alone (what the vector kernels buy).</summary>
internal static class YuvQuick
{
    public static int Run(int width, int height)
    {
        var random = new Random(42);
        var rgb = new RgbImage(width, height);
        random.NextBytes(rgb.Pixels);
        var destination = new RgbImage(width, height);
        Console.WriteLine($"{width}x{height}, vector kernel selected: {Rgb24Vectors.Selected}; best of 15, ms wall / CPU");
        foreach (var layout in Enum.GetValues<YuvLayout>())
        {
            byte[] frame = YuvConversion.FromRgb(rgb, layout);
            Report($"{layout} -> RGB", Measure(() => YuvConversion.ToRgb(frame, layout, destination)));
        }

        byte[] i420 = YuvConversion.FromRgb(rgb, YuvLayout.I420);
        var c = YuvCoefficients.For(YuvColorSpace.Bt601Limited);
        int chromaWidth = (width + 1) / 2, plane = chromaWidth * ((height + 1) / 2);
        Report("I420 -> RGB, scalar reference", Measure(() =>
        {
            for (int row = 0; row < height; row++)
            {
                YuvRowKernels.ToRgbScalar(i420.AsSpan(row * width, width), i420.AsSpan((width * height) + ((row >> 1) * chromaWidth), chromaWidth),
                    i420.AsSpan((width * height) + plane + ((row >> 1) * chromaWidth), chromaWidth), destination.Row(row), c);
            }
        }));
        foreach (var layout in Enum.GetValues<YuvLayout>())
        {
            byte[] frame = new byte[YuvConversion.FrameSize(layout, width, height)];
            Report($"RGB -> {layout}", Measure(() => YuvConversion.FromRgb(rgb, layout, frame)));
        }

        byte[] y = new byte[width], u = new byte[chromaWidth], v = new byte[chromaWidth];
        Report("RGB -> I420, scalar references", Measure(() =>
        {
            for (int row = 0; row < height; row++)
            {
                RgbToYuvKernels.LumaScalar(rgb.Row(row), y, c);
                if ((row & 1) == 0)
                {
                    RgbToYuvKernels.ChromaScalar(rgb.Row(row), rgb.Row(Math.Min(row + 1, height - 1)), u, v, c);
                }
            }
        }));
        return 0;
    }

    /// <summary>Times <paramref name="action"/> once the JIT's tiering has settled: 40 calls first (a conversion is a few
    /// milliseconds, so Best's own warm-up would time on-stack-replaced code), then a pause for the tier-1 compile.</summary>
    private static (double Wall, double Cpu) Measure(Action action)
    {
        for (int i = 0; i < 40; i++)
        {
            action();
        }

        Thread.Sleep(300);
        return RansQuick.Best(action);
    }

    private static void Report(string what, (double Wall, double Cpu) best) =>
        Console.WriteLine($"{what,-32} {best.Wall * 1000,7:F2} / {best.Cpu * 1000,7:F2}");
}
