using System.CommandLine;
using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Evaluation;
using EdgeCodec.Models;
using EdgeCodec.Imaging;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary><c>edgecodec eval --images DIR [--json OUT.json] [--plot OUT.png]</c>: RD against JPEG and WebP with real bitstreams.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var images = new Option<DirectoryInfo>("--images") { Description = "Folder of PNG images", Required = true };
        var json = CommonOptions.Json();
        var plot = new Option<FileInfo?>("--plot") { Description = "Write an RD plot (PNG)" };
        var limit = new Option<int>("--limit") { Description = "Use only the first N images (0 = all)", DefaultValueFactory = _ => 0 };
        var backend = CommonOptions.Backend();
        backend.DefaultValueFactory = _ => "reference";
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var compare = new Option<string?>("--compare-backends") { Description = "Also decode with these backends (e.g. onnx-fp32: the int8 synthesis loss)" };
        var prefixes = new Option<string?>("--prefix-layers") { Description = "Also decode only the first K layers, e.g. 1,2,3 (progressive quality)" };
        var adapters = new Option<string>("--adapters")
        {
            Description = "Domain adapters: none, auto (every package in --adapter-dir, routed per tile) or a comma-separated list of ids; "
                + "with adapters the summary also holds bd_rate_vs_no_adapters and the tiles each expert took",
            DefaultValueFactory = _ => "none",
        };
        var adapterDir = new Option<DirectoryInfo?>("--adapter-dir") { Description = "Folder of *.ecadapter packages (default: adapters/ beside the model pack)" };
        var trust = new Option<DirectoryInfo?>("--trust") { Description = "Verify the adapters' signatures against these *.pub.pem keys (default: <adapter-dir>/trust if it exists)" };
        var tileSize = CommonOptions.TileSize();
        var tileSizes = new Option<string?>("--compare-tile-sizes") { Description = "Also encode with these entropy tile sizes, e.g. 256,512 (their rate cost)" };
        var refined = new Option<DirectoryInfo?>("--refined-latents")
        {
            Description = "Evaluate the studio encoder: code DIR/<image>.q<N>.eclt (python3 -m training.refine) as \"edgecodec\"; "
                + "the one-pass encoder becomes \"edgecodec-fast\" and the summary holds the BD-rate between them",
        };
        var ladder = new Option<bool>("--ladder")
        {
            Description = "Sweep the pack's quality ladder (quality levels with residual layers) as \"edgecodec\"; "
                + "the quality levels alone become \"edgecodec-levels\" (with --refined-latents: the studio encoder's ladder and levels, "
                + "and the one-pass ladder as \"edgecodec-fast\")",
        };
        var analysis = CommonOptions.Analysis();
        var compareAnalysis = new Option<bool>("--compare-analysis")
        {
            Description = "Also encode with the other analysis arithmetic (\"edgecodec-int8-analysis\" or \"edgecodec-float32-analysis\"): what the int8 analysis costs",
        };
        var command = new Command("eval", "Rate-distortion evaluation of EdgeCodec vs JPEG and WebP (BD-rate, PSNR, MS-SSIM)")
            { images, json, plot, limit, backend, model, threads, compare, prefixes, tileSize, tileSizes, adapters, adapterDir, trust, refined, ladder, analysis, compareAnalysis };
        command.SetAction(r => CliRunner.Run(() =>
        {
            string? plotPath = r.GetValue(plot) is { } plotOption ? CliFiles.Output(plotOption) : null; // refused before any work
            string? jsonPath = r.GetValue(json) is { } jsonOption ? CliFiles.Output(jsonOption) : null; // refused before any work
            var pack = CliRunner.LoadPack(r.GetValue(model));
            var dir = r.GetRequiredValue(images);
            if (!dir.Exists)
            {
                throw new DirectoryNotFoundException($"No such folder: {dir.FullName}");
            }

            var files = dir.GetFiles("*.png").OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
            if (r.GetValue(limit) > 0)
            {
                files = [.. files.Take(r.GetValue(limit))];
            }

            if (files.Count == 0)
            {
                throw new FileNotFoundException($"No PNG images in {dir.FullName}");
            }

            var set = files.Select(f => (Path.GetFileNameWithoutExtension(f.Name), ImageFile.Load(f.FullName))).ToList();
            var experts = LoadAdapters(pack, r.GetValue(adapters)!, r.GetValue(adapterDir), r.GetValue(trust), r.GetValue(model));
            int tile = r.GetValue(tileSize);
            var arith = r.GetValue(analysis);
            bool useLadder = r.GetValue(ladder);
            if (useLadder && pack.ResidualSteps.Count == 0)
            {
                throw new ArgumentException("--ladder: the model pack has no residual layer");
            }

            var studio = r.GetValue(refined) is { } refinedDir
                ? StudioCodec(pack, r.GetValue(backend)!, refinedDir, set, experts.Count > 0 || tile != 0, useLadder ? pack.QualityLadder : null)
                : null;

            var codecs = new List<IRdCodec>
            {
                (IRdCodec?)studio ?? new EdgeCodecRdCodec(pack, r.GetValue(backend)!, experts: experts, tileSize: tile, ladder: useLadder ? pack.QualityLadder : null, analysis: arith),
                new JpegCodec(), new WebpCodec(),
            };
            if (useLadder)
            {
                CliRunner.Info($"quality ladder: {string.Join(" ", studio is null ? pack.QualityLadder : studio.QualityLevels.Select(i => pack.QualityLadder[i]))}");
                codecs.Add(studio is null
                    ? new EdgeCodecRdCodec(pack, r.GetValue(backend)!, "edgecodec-levels", experts: experts, tileSize: tile, analysis: arith)
                    : new RefinedRdCodec(pack, r.GetValue(backend)!, r.GetValue(refined)!.FullName, set, "edgecodec-levels"));
            }

            if (studio is not null)
            {
                codecs.Add(new EdgeCodecRdCodec(pack, r.GetValue(backend)!, "edgecodec-fast", ladder: useLadder ? pack.QualityLadder : null, analysis: arith));
            }

            if (experts.Count > 0)
            {
                CliRunner.Info($"adapters: {string.Join(", ", experts.Select(a => $"{a.Manifest.Id} (expert {a.Manifest.ExpertId}, {a.Manifest.Domain})"))}");
                codecs.Add(new EdgeCodecRdCodec(pack, r.GetValue(backend)!, RdSummary.NoAdaptersAnchor, tileSize: tile, ladder: useLadder ? pack.QualityLadder : null, analysis: arith));
            }

            if (r.GetValue(compareAnalysis))
            {
                var other = arith == AnalysisArithmetic.Int8 ? AnalysisArithmetic.Float32 : AnalysisArithmetic.Int8;
                codecs.Add(new EdgeCodecRdCodec(pack, r.GetValue(backend)!, $"edgecodec-{other.ToString().ToLowerInvariant()}-analysis", tileSize: tile,
                    ladder: useLadder ? pack.QualityLadder : null, analysis: other));
            }

            foreach (string b in List(r.GetValue(compare)))
            {
                codecs.Add(new EdgeCodecRdCodec(pack, b, $"edgecodec-{b}", tileSize: tile, analysis: arith));
            }

            foreach (string k in List(r.GetValue(prefixes)))
            {
                codecs.Add(new EdgeCodecRdCodec(pack, r.GetValue(backend)!, $"edgecodec-{k}layers", int.Parse(k, System.Globalization.CultureInfo.InvariantCulture), tileSize: tile, analysis: arith));
            }

            foreach (string t in List(r.GetValue(tileSizes)))
            {
                codecs.Add(new EdgeCodecRdCodec(pack, r.GetValue(backend)!, $"edgecodec-tile{t}", tileSize: int.Parse(t, System.Globalization.CultureInfo.InvariantCulture), analysis: arith));
            }

            var evaluator = new RdEvaluator(codecs)
            {
                TestCodec = "edgecodec",
                MaxDegreeOfParallelism = r.GetValue(threads) > 0 ? r.GetValue(threads) : Environment.ProcessorCount,
            };
            RdReport report = null!;
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask("encode + decode", maxValue: 1);
                report = evaluator.Evaluate(set, new SyncProgress(p =>
                {
                    task.MaxValue = p.Total;
                    task.Value = p.Completed;
                }));
            });

            var table = new Table().AddColumns("codec", "quality", "bpp", "PSNR", "MS-SSIM").Border(TableBorder.Rounded);
            foreach (var curve in report.AverageCurves)
            {
                foreach (var p in curve.Points)
                {
                    table.AddRow(curve.Codec, p.Quality.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{p.Bpp:F4}", $"{p.Psnr:F2}", $"{p.MsSsim:F4}");
                }
            }

            AnsiConsole.Write(table);
            Console.WriteLine($"BD-rate vs JPEG: {Format(report.Summary.BdRateVsJpeg)}, vs WebP: {Format(report.Summary.BdRateVsWebp)} ({set.Count} images)");
            foreach (var (other, bd) in report.Summary.BdRateVs.Where(kv => kv.Key.StartsWith("edgecodec-", StringComparison.Ordinal)))
            {
                Console.WriteLine($"BD-rate vs {other}: {Format(bd)}");
            }
            if (report.Summary.Counts is { } counts)
            {
                Console.WriteLine($"BD-rate vs no adapters: {Format(report.Summary.BdRateVsNoAdapters)}; tiles per expert: {string.Join(", ", counts.Select(kv => $"{kv.Key["tiles_expert_".Length..]}={kv.Value}"))}");
            }

            if (jsonPath is not null)
            {
                using var fs = File.Create(jsonPath);
                report.WriteJson(fs);
            }

            if (plotPath is not null)
            {
                RdPlot.Save(report, plotPath);
            }

            return CliRunner.Ok;
        }));
        return command;
    }

    private static List<AdapterPackage> LoadAdapters(ModelPack pack, string which, DirectoryInfo? dir, DirectoryInfo? trustDir, FileInfo? model)
    {
        if (which == "none")
        {
            return [];
        }

        string folder = dir?.FullName ?? Path.Combine(Path.GetDirectoryName(model?.FullName ?? ModelPack.FindDefaultPath())!, "adapters");
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"No adapter folder {folder} (give --adapter-dir).");
        }

        var all = Directory.GetFiles(folder, "*.ecadapter").Order(StringComparer.Ordinal)
            .Select(f => AdapterPackage.Read(File.ReadAllBytes(f))).ToList();
        string trustFolder = trustDir?.FullName ?? Path.Combine(folder, "trust");
        if (trustDir is not null || Directory.Exists(trustFolder))
        {
            using var store = AdapterTrustStore.FromDirectory(trustFolder);
            all.ForEach(a => a.VerifySignature(store));
        }

        var chosen = all.Where(a => string.Equals(a.Manifest.BaseModelSha256, pack.Sha256, StringComparison.Ordinal)).ToList();
        if (which != "auto")
        {
            var ids = which.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var missing = ids.Where(id => !chosen.Any(a => a.Manifest.Id == id)).ToList();
            if (missing.Count > 0)
            {
                throw new FileNotFoundException($"No adapter {string.Join(", ", missing)} for model {pack.Sha256[..12]} in {folder}.");
            }

            chosen = [.. chosen.Where(a => ids.Contains(a.Manifest.Id))];
        }

        if (chosen.Count == 0)
        {
            throw new FileNotFoundException($"No adapter in {folder} was made for model {pack.Sha256[..12]}.");
        }

        return chosen;
    }

    /// <summary>The studio encoder's codec over <paramref name="folder"/>; it needs whole-image tiles, no adapters and 4 complete levels.</summary>
    private static RefinedRdCodec StudioCodec(ModelPack pack, string backend, DirectoryInfo folder, List<(string, RgbImage)> set, bool tilesOrAdapters,
        IReadOnlyList<QualitySetting>? ladder)
    {
        if (tilesOrAdapters)
        {
            throw new ArgumentException("--refined-latents is evaluated with whole-image tiles and without adapters.");
        }

        var studio = new RefinedRdCodec(pack, backend, folder.FullName, set, ladder: ladder);
        if (studio.QualityLevels.Count < 4)
        {
            throw new FileNotFoundException($"{folder.FullName} has refined latents of every image for {studio.RefinedLevels.Count} quality levels"
                + (ladder is null ? "" : $", {studio.QualityLevels.Count} ladder settings") + "; BD-rate needs 4 (run python3 -m training.refine).");
        }

        CliRunner.Info($"refined latents: quality levels {string.Join(",", studio.RefinedLevels)}"
            + (ladder is null ? "" : $", {studio.RungsRefinedWithLayer} ladder rungs refined with the residual layer in the loop") + $" from {folder.FullName}");
        return studio;
    }

    private static string[] List(string? csv) => (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Format(double? v) => v is { } d ? $"{d:+0.00;-0.00;0.00}%" : "n/a (no overlap)";

    private sealed class SyncProgress(Action<RdProgress> report) : IProgress<RdProgress>
    {
        private readonly Lock _gate = new();

        public void Report(RdProgress value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
