using System.CommandLine;
using System.Globalization;
using EdgeCodec.Evaluation;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary>
/// <c>edgecodec bd REPORT.json [--window LO,HI] [--interpolation cubic|pchip|linear] [--against OTHER.json] [--per-image ANCHOR] [--plot OUT.png]</c>: the
/// BD-rates of a saved <c>eval --json</c> report, again or over a PSNR window, so that two packs with different operating
/// ranges can be compared on the same stretch of quality; <c>--against</c> adds another report's test curve as one more
/// anchor (a new pack against the previous pack's committed report, on the same images); <c>--interpolation</c> reads the curves through their points
/// instead of a least-squares cubic (dense ladders); with <c>--per-image</c>, each image's BD-rates against one anchor,
/// worst last, to see where a codec loses; with <c>--plot</c>, the report's curves drawn again as <c>eval --plot</c> draws
/// them (a report written without a plot, or one whose plot was lost, needs no new evaluation).
/// </summary>
internal static class BdCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("report") { Description = "RD report written by eval --json" };
        var window = new Option<string?>("--window")
        {
            Description = "Integrate only over this PSNR range in dB, e.g. 27,29 (intersected with the curves' shared range)",
        };
        var perImage = new Option<string?>("--per-image")
        {
            Description = "Also list each image's BD-rates (PSNR and MS-SSIM) against this anchor codec, e.g. webp, sorted by the PSNR one",
        };
        var interpolation = new Option<BdInterpolation>("--interpolation")
        {
            Description = "How the windowed BD-rates read each curve: cubic (least-squares, VCEG-M33; the default), " +
                "pchip (piecewise cubic Hermite through the points) or linear",
            DefaultValueFactory = _ => BdInterpolation.Cubic,
        };
        var against = new Option<FileInfo?>("--against")
        {
            Description = "Also compare against another RD report's test codec (e.g. the previous pack's report on the same images)",
        };
        var plot = new Option<FileInfo?>("--plot") { Description = "Also draw the report's RD curves into this PNG (as eval --plot does)" };
        var command = new Command("bd", "BD-rates of a saved RD report, optionally over a PSNR window")
        {
            input, window, interpolation, against, perImage, plot,
        };
        command.SetAction(r => CliRunner.Run(() =>
        {
            string? plotPath = r.GetValue(plot) is { } plotOption ? CliFiles.Output(plotOption) : null; // refused before any work
            (double from, double to) = ParseWindow(r.GetValue(window));
            BdInterpolation method = r.GetValue(interpolation);
            RdReport report = Read(r.GetRequiredValue(input));
            RdCurve test = TestCurve(report);
            if (r.GetValue(perImage) is { } requested && (requested == report.TestCodec || !report.AverageCurves.Any(c => c.Codec == requested)))
            {
                throw new ArgumentException($"--per-image: '{requested}' is not an anchor of this report " +
                    $"({string.Join(", ", report.AverageCurves.Select(c => c.Codec).Where(c => c != report.TestCodec))}).");
            }

            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("anchor", $"BD-rate (PSNR, {Name(method)})", "over PSNR", "full-range BD-rate", "full-range BD-rate (MS-SSIM)");
            foreach (RdCurve anchor in report.AverageCurves.Where(c => c.Codec != report.TestCodec))
            {
                IReadOnlyList<RdPoint> a = anchor.ToPoints(), t = test.ToPoints();
                bool defined = BjontegaardDelta.TryBdRate(a, t, RdMetric.Psnr, method, from, to, out double bd, out double lo, out double hi);
                string windowed = defined ? Percent(bd) : "undefined";
                var comparison = report.Comparisons.FirstOrDefault(c => c.Anchor == anchor.Codec); // eval computed these
                table.AddRow(Markup.Escape(anchor.Codec), windowed, hi > lo ? $"{lo:F2} .. {hi:F2} dB" : "-",
                    Percent(comparison?.BdRate), Percent(comparison?.BdRateMsSsim));
            }

            if (r.GetValue(against) is { } otherFile)
            {
                RdReport other = Read(otherFile);
                if (!other.Images.Select(i => i.Name).Order(StringComparer.Ordinal).SequenceEqual(report.Images.Select(i => i.Name).Order(StringComparer.Ordinal)))
                {
                    throw new ArgumentException($"--against: {otherFile.Name} measured other images ({other.Images.Count}) than this report " +
                        $"({report.Images.Count}); BD-rates between them would compare pictures, not codecs.");
                }

                IReadOnlyList<RdPoint> a = TestCurve(other).ToPoints(), t = test.ToPoints();
                bool defined = BjontegaardDelta.TryBdRate(a, t, RdMetric.Psnr, method, from, to, out double bd, out double lo, out double hi);
                double? full = BjontegaardDelta.TryBdRate(a, t, RdMetric.Psnr, out double f) ? f : null;
                double? fullMs = BjontegaardDelta.TryBdRate(a, t, RdMetric.MsSsimDb, out double m) ? m : null;
                table.AddRow(Markup.Escape($"{other.TestCodec} of {otherFile.Name}"), defined ? Percent(bd) : "undefined",
                    hi > lo ? $"{lo:F2} .. {hi:F2} dB" : "-", Percent(full), Percent(fullMs));
            }

            AnsiConsole.MarkupLine(Markup.Escape($"{report.TestCodec}, {report.Images.Count} images, {report.CreatedUtc:yyyy-MM-dd}"));
            AnsiConsole.Write(table);
            if (r.GetValue(perImage) is { } anchorName)
            {
                AnsiConsole.Write(PerImageTable(report, anchorName, method, from, to));
            }

            if (plotPath is not null)
            {
                RdPlot.Save(report, plotPath);
            }

            return CliRunner.Ok;
        }));
        return command;
    }

    private static RdReport Read(FileInfo file)
    {
        using var fs = File.OpenRead(CliFiles.Input(file));
        return RdReport.ReadJson(fs);
    }

    private static RdCurve TestCurve(RdReport report) =>
        report.AverageCurves.FirstOrDefault(c => c.Codec == report.TestCodec)
            ?? throw new InvalidDataException($"The report has no curve of its test codec {report.TestCodec}.");

    private static (double From, double To) ParseWindow(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (double.NegativeInfinity, double.PositiveInfinity);
        }

        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double from)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double to)
            || !(to > from))
        {
            throw new ArgumentException($"--window takes LO,HI in dB with LO < HI, not '{text}'.");
        }

        return (from, to);
    }

    /// <summary>Each image's BD-rates of the test codec against <paramref name="anchor"/>, sorted by the PSNR one (undefined last).</summary>
    private static Table PerImageTable(RdReport report, string anchor, BdInterpolation method, double from, double to)
    {
        var rows = new List<(string Name, double? Psnr, double? MsSsim, string Range)>();
        foreach (RdImageResult image in report.Images)
        {
            RdPoint[] Points(string codec) => image.Measurements.Where(m => m.Codec == codec).OrderBy(m => m.Bpp).Select(m => m.ToPoint()).ToArray();
            RdPoint[] a = Points(anchor), t = Points(report.TestCodec);
            double? psnr = BjontegaardDelta.TryBdRate(a, t, RdMetric.Psnr, method, from, to, out double bd, out _, out _) ? bd : null;
            double? msSsim = BjontegaardDelta.TryBdRate(a, t, RdMetric.MsSsimDb, out double bdm) ? bdm : null;
            string range = t.Length == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{t.Min(p => p.Psnr):F2} .. {t.Max(p => p.Psnr):F2} dB");
            rows.Add((image.Name, psnr, msSsim, range));
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("image", $"BD-rate vs {anchor} (PSNR, {Name(method)})", "(MS-SSIM, cubic)", $"{report.TestCodec} PSNR");
        foreach (var row in rows.OrderBy(x => x.Psnr ?? double.PositiveInfinity))
        {
            table.AddRow(Markup.Escape(row.Name), Percent(row.Psnr), Percent(row.MsSsim), row.Range);
        }

        return table;
    }

    private static string Name(BdInterpolation method) => method.ToString().ToLowerInvariant();

    private static string Percent(double? value) =>
        value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:+0.0;-0.0;0.0} %") : "undefined";
}
