using System.CommandLine;
using EdgeCodec.Codec;
using EdgeCodec.Models;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary><c>edgecodec model info|verify|strip PACK [--vectors DIR] [--keep-onnx] [--out PATH]</c></summary>
internal static class ModelCommand
{
    /// <summary>Who reads an ONNX entry: the encoder's analysis graphs, or the ONNX Runtime backends' synthesis.</summary>
    private static string GraphReader(string entry) => entry switch
    {
        ModelPack.AnalysisEntry or ModelPack.HyperAnalysisEntry => "encoder",
        ModelPack.AnalysisInt8Entry => "encoder, --analysis Int8",
        ModelPack.SynthesisQdqEntry => "decoder: onnx, qnn backends",
        ModelPack.SynthesisFp32Entry => "decoder: onnx-fp32 backend",
        _ => "not read by this SDK",
    };

    public static Command Create()
    {
        var command = new Command("model", "Inspect and verify model packs");
        var pack = new Argument<FileInfo?>("pack") { Description = "Model pack (.ecpack); default: the newest in models/", Arity = ArgumentArity.ZeroOrOne };
        var info = new Command("info", "Show a model pack's layout, quality levels and decoder cost") { pack };
        info.SetAction(r => CliRunner.Run(() =>
        {
            var p = CliRunner.LoadPack(r.GetValue(pack));
            var l = p.Layout;
            var table = new Table().AddColumns("field", "value").Border(TableBorder.Rounded);
            table.AddRow("name", Markup.Escape(p.Name));
            table.AddRow("identity", $"{p.Sha256} (SHA-256 of {(p.FormatVersion == 1 ? "the file" : "manifest.json")}; format version {p.FormatVersion})");
            table.AddRow("model id", $"{p.ModelId:x16}");
            table.AddRow("latents", $"{l.LatentChannels} channels at 1/{l.LatentStride}, {l.Groups} groups of {l.GroupChannels}");
            table.AddRow("hyper-latents", $"{l.HyperChannels} channels at 1/{l.HyperStride}");
            table.AddRow("tile", $"{l.TileSize} px, synthesis halo {l.SynthesisHalo}");
            table.AddRow("quality levels", string.Join(", ", p.QualityLevels.Select(q => $"{q.Level} (lambda {q.Lambda})")));
            table.AddRow("residual layer", p.ResidualSteps.Count == 0 ? "none"
                : $"{p.ResidualBlockClasses} block class{(p.ResidualBlockClasses == 1 ? "" : "es")}, steps " + string.Join(", ", p.ResidualSteps.Select((s, i) => $"{i}: {s:0.##} px")));
            table.AddRow("quality ladder", p.QualityLadderBitsPerPixel.Count == 0
                ? string.Join(" ", p.QualityLadder)
                : string.Join(" ", p.QualityLadder.Select((q, i) => $"{q} ({p.QualityLadderBitsPerPixel[i]:0.###} bpp)")));
            table.AddRow("decoder cost", $"{p.DecoderKmacPerPixel:F2} kMAC/pixel");
            table.AddRow("onnx graphs", string.Join("\n", p.OnnxEntries.Select(e =>
                FormattableString.Invariant($"{e} ({p.GetEntry(e).Length / 1e6:F2} MB, {GraphReader(e)})"))));
            if (p.OmittedEntries.Count > 0)
            {
                table.AddRow("left out", string.Join("\n", p.OmittedEntries.Select(e => $"{e} ({GraphReader(e)})")) + "\n(a decoder-only copy: same identity)");
            }

            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }));

        var pack2 = new Argument<FileInfo?>("pack") { Description = "Model pack (.ecpack)", Arity = ArgumentArity.ZeroOrOne };
        var vectors = new Option<DirectoryInfo?>("--vectors") { Description = "Test vectors written by training/export.py (default: tests/vectors/model)" };
        var verify = new Command("verify", "Validate a pack (hashes, graphs, tables) and compare the integer engine with the Python reference's vectors") { pack2, vectors };
        verify.SetAction(r => CliRunner.Run(() =>
        {
            var p = CliRunner.LoadPack(r.GetValue(pack2));
            Console.WriteLine($"pack: valid ({p.Name}, sha256 {p.Sha256[..12]})");
            string? dir = r.GetValue(vectors)?.FullName ?? DefaultVectors();
            if (dir is null)
            {
                Console.WriteLine("vectors: none found");
                return CliRunner.Ok;
            }

            var mismatches = ConformanceCheck.Run(p, dir);
            if (mismatches.Count == 0)
            {
                Console.WriteLine("vectors: identical");
                return CliRunner.Ok;
            }

            foreach (var m in mismatches)
            {
                Console.WriteLine("vectors: MISMATCH " + m);
            }

            return CliRunner.Failure;
        }));
        command.Subcommands.Add(info);
        command.Subcommands.Add(verify);
        command.Subcommands.Add(CreateStrip());
        return command;
    }

    /// <summary><c>model strip [PACK] [--keep-onnx] [--out PATH]</c>: a decoder-only copy with the pack's identity.</summary>
    private static Command CreateStrip()
    {
        var pack = new Argument<FileInfo?>("pack") { Description = "Model pack (.ecpack, format version 2); default: the newest in models/", Arity = ArgumentArity.ZeroOrOne };
        var keepOnnx = new Option<bool>("--keep-onnx") { Description = "Keep the ONNX synthesis graphs (for the onnx, onnx-fp32 and qnn backends); without them the copy decodes on the cpu backend" };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "The copy's path, or a folder (created if missing) for <name>-decoder-<id>.ecpack (default: the current folder)" };
        var strip = new Command("strip", "Write a decoder-only copy of a pack: the same identity and model id, without the encoder's graphs") { pack, keepOnnx, output };
        strip.SetAction(r => CliRunner.Run(() =>
        {
            string source = r.GetValue(pack) is { } file ? CliFiles.Input(file) : ModelPack.FindDefaultPath();
            using var input = File.OpenRead(source);
            using var copy = new MemoryStream();
            ModelPack p = ModelPack.WriteDecoderPack(input, copy, r.GetValue(keepOnnx));
            string destination = CliFiles.Output(r.GetValue(output) ?? new FileInfo(Environment.CurrentDirectory),
                $"{(p.Name.Length > 0 ? p.Name : "model")}-decoder-{p.Sha256[..12]}.ecpack");

            if (Path.GetFullPath(destination) == Path.GetFullPath(source))
            {
                throw new ArgumentException($"--out names the source pack itself ({source}); write the copy elsewhere.");
            }

            CliFiles.WriteWhole(destination, copy.WriteTo);
            CliFiles.Report(destination).WriteLine(FormattableString.Invariant(
                $"wrote {destination}: {copy.Length / 1e6:F2} MB of {input.Length / 1e6:F2} MB, identity {p.Sha256[..12]} (model id {p.ModelId:x16}), left out: {string.Join(", ", p.OmittedEntries)}"));
            return CliRunner.Ok;
        }));
        return strip;
    }

    private static string? DefaultVectors()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "vectors", "model");
            if (File.Exists(Path.Combine(candidate, "vectors.json")))
            {
                return candidate;
            }
        }

        return null;
    }
}
