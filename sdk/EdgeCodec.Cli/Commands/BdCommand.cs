using System.CommandLine;
using System.Globalization;
using EdgeCodec.Evaluation;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary>
/// <c>edgecodec bd REPORT.json [--window LO,HI]</c>: the BD-rates of a saved <c>eval --json</c> report, again or over a
/// PSNR window, so that two packs with different operating ranges can be compared on the same stretch of quality.
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
        var command = new Command("bd", "BD-rates of a saved RD report, optionally over a PSNR window") { input, window };
        command.SetAction(r => CliRunner.Run(() =>
        {
            (double from, double to) = ParseWindow(r.GetValue(window));
            RdReport report;
            using (var fs = File.OpenRead(r.GetRequiredValue(input).FullName))
            {
                report = RdReport.ReadJson(fs);
            }

            RdCurve test = report.AverageCurves.FirstOrDefault(c => c.Codec == report.TestCodec)
                ?? throw new InvalidDataException($"The report has no curve of its test codec {report.TestCodec}.");
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("anchor", "BD-rate (PSNR)", "over PSNR", "full-range BD-rate");
            foreach (RdCurve anchor in report.AverageCurves.Where(c => c.Codec != report.TestCodec))
            {
                IReadOnlyList<RdPoint> a = anchor.ToPoints(), t = test.ToPoints();
                bool defined = BjontegaardDelta.TryBdRate(a, t, RdMetric.Psnr, from, to, out double bd, out double lo, out double hi);
                string windowed = defined ? Percent(bd) : "undefined";
                double? all = report.Comparisons.FirstOrDefault(c => c.Anchor == anchor.Codec)?.BdRate; // eval computed it
                string full = all is { } value ? Percent(value) : "undefined";
                table.AddRow(Markup.Escape(anchor.Codec), windowed, hi > lo ? $"{lo:F2} .. {hi:F2} dB" : "-", full);
            }

            AnsiConsole.MarkupLine(Markup.Escape($"{report.TestCodec}, {report.Images.Count} images, {report.CreatedUtc:yyyy-MM-dd}"));
            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }));
        return command;
    }

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

    private static string Percent(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:+0.0;-0.0;0.0} %");
}
