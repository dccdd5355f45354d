using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace EdgeCodec.Evaluation;

/// <summary>Draws the average rate-distortion curves of an <see cref="RdReport"/>.</summary>
public static class RdPlot
{
    private const int PanelWidth = 800;
    private const int PanelHeight = 600;

    /// <summary>
    /// Writes a PNG with two panels side by side: PSNR-RGB vs bits per pixel, and MS-SSIM in dB
    /// (<c>-10 * log10(1 - MS-SSIM)</c>) vs bits per pixel, one line per codec, with the BD-rates in the titles.
    /// </summary>
    /// <param name="report">The report to draw.</param>
    /// <param name="pngPath">Destination file; replaced if it exists.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened for writing.</exception>
    public static void Save(RdReport report, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(pngPath);

        Plot psnr = Panel(report, p => p.Psnr, "PSNR-RGB (dB)", $"PSNR vs rate, {report.Images.Count} images", c => c.BdRate);
        Plot msSsim = Panel(report, p => p.MsSsimDb, "MS-SSIM (dB) = -10 log10(1 - MS-SSIM)", $"MS-SSIM vs rate, {report.Images.Count} images", c => c.BdRateMsSsim);

        using var surface = SKSurface.Create(new SKImageInfo(2 * PanelWidth, PanelHeight));
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        RenderAt(canvas, psnr, 0);
        RenderAt(canvas, msSsim, PanelWidth);

        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        using FileStream file = File.Create(pngPath);
        png.SaveTo(file);
    }

    private static Plot Panel(RdReport report, Func<RdCurvePoint, double> quality, string yLabel, string title, Func<RdComparison, double?> bd)
    {
        var plot = new Plot();
        foreach (RdCurve curve in report.AverageCurves)
        {
            var scatter = plot.Add.Scatter(
                curve.Points.Select(p => p.Bpp).ToArray(),
                curve.Points.Select(quality).ToArray());
            scatter.LegendText = curve.Codec;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 6;
        }

        // Put the headline deltas where a reader looks first; anchors in report order, three per line so the title
        // fits the panel.
        string[] items = report.Comparisons
            .Select(c => bd(c) is double v
                ? string.Create(CultureInfo.InvariantCulture, $"vs {c.Anchor} {v:+0.0;-0.0;0.0}%")
                : $"vs {c.Anchor} n/a")
            .ToArray();
        var lines = items.Chunk(3).Select(chunk => string.Join(", ", chunk)).ToList();
        if (lines.Count > 0)
        {
            lines[0] = $"BD-rate of {report.TestCodec}: {lines[0]}";
        }

        plot.Title(lines.Count == 0 ? title : $"{title}\n{string.Join("\n", lines)}");
        plot.XLabel("Rate (bits per pixel)");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static void RenderAt(SKCanvas canvas, Plot plot, int left)
    {
        canvas.Save();
        canvas.Translate(left, 0);
        canvas.ClipRect(new SKRect(0, 0, PanelWidth, PanelHeight));
        plot.Render(canvas, PanelWidth, PanelHeight);
        canvas.Restore();
    }
}
