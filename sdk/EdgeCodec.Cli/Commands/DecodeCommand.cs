using System.CommandLine;
using System.Text.Json;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;

namespace EdgeCodec.Cli.Commands;

/// <summary><c>edgecodec decode IN.ecx -o OUT.png [--backend NAME] [--layers K] [--json T.json] [--yuv LAYOUT[:SPACE]]</c></summary>
internal static class DecodeCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "Container to decode (.ecx), complete or truncated, or - for standard input" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "PNG to write (with --yuv a raw frame), a folder for <input name>.png (.yuv), or - for standard output", Required = true };
        var layers = new Option<int>("--layers", "-l") { Description = "Decode at most K refinement layers (0 = all)", DefaultValueFactory = _ => 0 };
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var backend = CommonOptions.Backend();
        var json = CommonOptions.Json();
        var region = CommonOptions.SynthesisRegion();
        var yuv = new Option<string?>("--yuv")
        {
            Description = "Write one raw YUV frame (for a display plane or a video pipeline) instead of PNG: LAYOUT[:COLOURSPACE], LAYOUT i420|nv12|nv21|yuyv, COLOURSPACE bt601 (default)|bt601-full|bt709|bt709-full",
        };
        var command = new Command("decode", "Decode an EdgeCodec container to PNG") { input, output, layers, backend, model, threads, region, json, yuv };
        command.SetAction(r => CliRunner.Run(() =>
        {
            string? jsonPath = r.GetValue(json) is { } jsonOption ? CliFiles.Output(jsonOption) : null; // refused before any work
            var pack = CliRunner.LoadPack(r.GetValue(model));
            var options = new DecoderOptions
            {
                Backend = r.GetValue(backend)!,
                Threads = r.GetValue(threads),
                MaxLayers = r.GetValue(layers),
                SynthesisRegion = r.GetValue(region),
                Log = CliRunner.Info,
            };
            var raw = r.GetValue(yuv) is { } spec ? YuvFrameFormat.Parse(spec, sized: false) : null;
            FileInfo source = r.GetRequiredValue(input);
            string target = CliFiles.Output(r.GetRequiredValue(output), CliFiles.Stem(source) + (raw is null ? ".png" : ".yuv"));
            using var file = CliFiles.IsStandard(source) ? Console.OpenStandardInput() : File.OpenRead(CliFiles.Input(source));
            TextWriter status = CliFiles.Report(target);
            var (frame, container) = EdgeCodecDecoder.Decode(pack, file, options);
            CliFiles.WriteWhole(target, s =>
            {
                if (raw is null)
                {
                    ImageFile.SavePng(frame.Image, s);
                }
                else
                {
                    s.Write(YuvConversion.FromRgb(frame.Image, raw.Layout, raw.ColorSpace));
                }
            });
            var t = frame.Timings;
            double mps = frame.Image.PixelCount / 1e6 / t.TotalSeconds;
            status.WriteLine($"{Path.GetFileName(target)}: {frame.Image.Width}x{frame.Image.Height} on '{frame.Backend}', " +
                $"layers per tile {string.Join(",", frame.LayersPerTile.Distinct())}/{frame.ExpectedLayers}, " +
                $"{t.TotalSeconds * 1000:F1} ms (entropy {t.EntropySeconds * 1000:F1}, hyper {t.HyperSeconds * 1000:F1}, synthesis {t.SynthesisSeconds * 1000:F1}{(t.ResidualSeconds > 0 ? $", residual layer {t.ResidualSeconds * 1000:F1}" : "")}), {mps:F2} MP/s");
            if (!container.IsComplete)
            {
                status.WriteLine($"container: {container.Status}: {container.Message} ({container.PacketsRecovered} packets recovered)");
            }

            if (frame.MissingTiles.Count > 0)
            {
                status.WriteLine($"concealed: {frame.MissingTiles.Count} of {frame.LayersPerTile.Count} tiles (indices {string.Join(",", frame.MissingTiles)})");
            }

            if (jsonPath is not null)
            {
                var report = new DecodeReport(frame.Backend, r.GetValue(threads) > 0 ? r.GetValue(threads) : Environment.ProcessorCount,
                    frame.Image.Width, frame.Image.Height, t.TotalSeconds, t.EntropySeconds, t.HyperSeconds, t.SynthesisSeconds, mps,
                    frame.IsComplete, container.Status.ToString());
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, CliJsonContext.Default.DecodeReport));
            }

            return CliRunner.Ok;
        }));
        return command;
    }
}

/// <summary>What <c>decode --json</c> writes.</summary>
internal sealed record DecodeReport(string Backend, int Threads, int Width, int Height, double DecodeSeconds, double EntropySeconds,
    double HyperSeconds, double SynthesisSeconds, double MegapixelsPerSecond, bool Complete, string ContainerStatus);
