using System.CommandLine;
using System.Diagnostics;
using EdgeCodec.Codec;
using EdgeCodec.Models;
using EdgeCodec.Format;
using EdgeCodec.Imaging;

namespace EdgeCodec.Cli.Commands;

/// <summary><c>edgecodec encode IN.png -o OUT.ecx [--quality N] [--layers K] [--max-bytes B] [--tile-size PX] [--layout compact|indexed] [--latents IN.eclt] [--analysis Float32|Int8] [--preview-layer] [--yuv LAYOUT:WxH[:SPACE]]</c></summary>
internal static class EncodeCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "Image to encode (PNG, JPEG, WebP; with --yuv a raw YUV frame), or - for standard input" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Container to write (.ecx), a folder for <input name>.ecx, or - for standard output", Required = true };
        var quality = new Option<int>("--quality", "-q") { Description = "Quality level (0 = smallest)", DefaultValueFactory = _ => 2 };
        var layers = new Option<int>("--layers", "-l") { Description = "Refinement layers to write (0 = all)", DefaultValueFactory = _ => 0 };
        var tileSize = CommonOptions.TileSize();
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var latents = new Option<FileInfo?>("--latents")
        {
            Description = "Code these refined latents (.eclt from python3 -m training.refine) instead of running the analysis; the quality (and residual step, if refined with the layer) is theirs",
        };
        var maxBytes = new Option<long?>("--max-bytes")
        {
            Description = "Write the best stream whose container fits in this many bytes (picks the quality and layers; not with --quality, --layers or --latents)",
        };
        var residual = new Option<int?>("--residual", "-r")
        {
            Description = "Add a residual layer with this step index of the pack (edgecodec model info lists them; larger = coarser, fewer bytes)",
        };
        var preview = new Option<bool>("--preview-layer")
        {
            Description = "Write each tile's hyper-latent as a layer of its own, first: a cut file shows a whole blurred picture after a few percent of its bytes (container format 2)",
        };
        var yuv = new Option<string?>("--yuv")
        {
            Description = $"The input is one raw YUV frame (a camera's, a .yuv file): {YuvFrameFormat.Syntax}",
        };
        var layout = CommonOptions.Layout("compact");
        var analysis = CommonOptions.Analysis();
        var command = new Command("encode", "Encode an image into an EdgeCodec container") { input, output, quality, layers, maxBytes, tileSize, layout, model, threads, latents, residual, analysis, preview, yuv };
        command.SetAction(r => CliRunner.Run(() =>
        {
            if (r.GetValue(maxBytes) is not null && (r.GetResult(quality) is { Implicit: false } || r.GetResult(layers) is { Implicit: false } || r.GetValue(latents) is not null || r.GetValue(residual) is not null))
            {
                return CliRunner.Error(CliRunner.Usage, "--max-bytes chooses the quality and layers itself: it cannot be combined with --quality, --layers, --latents or --residual");
            }

            var raw = r.GetValue(yuv) is { } spec ? YuvFrameFormat.Parse(spec, sized: true) : null;
            var pack = CliRunner.LoadPack(r.GetValue(model));
            FileInfo source = r.GetRequiredValue(input);
            string target = CliFiles.Output(r.GetRequiredValue(output), CliFiles.Stem(source) + ".ecx");
            var image = raw is not null ? raw.ToRgb(CliFiles.ReadAll(source), CliFiles.IsStandard(source) ? "standard input" : source.ToString())
                : CliFiles.IsStandard(source) ? ImageFile.Load(new MemoryStream(CliFiles.ReadAll(source))) : ImageFile.Load(CliFiles.Input(source));
            using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = r.GetValue(threads), TileSize = r.GetValue(tileSize), Analysis = r.GetValue(analysis), PreviewLayer = r.GetValue(preview) });
            var fileLayout = r.GetValue(layout) ?? ContainerLayout.Compact;
            var sw = Stopwatch.StartNew();
            var refined = r.GetValue(latents) is { } file ? RefinedLatents.Read(File.ReadAllBytes(CliFiles.Input(file)), pack) : null;
            int? step = r.GetValue(residual) ?? refined?.ResidualStep;
            var encoded = refined is not null ? encoder.Encode(image, refined, new QualitySetting(refined.Quality, step), r.GetValue(layers))
                : r.GetValue(maxBytes) is { } budget ? encoder.EncodeWithin(image, budget, e => e.WriteContainer(Stream.Null, fileLayout))
                : encoder.Encode(image, new QualitySetting(r.GetValue(quality), r.GetValue(residual)), r.GetValue(layers));
            long bytes = CliFiles.WriteWhole(target, fs => encoded.WriteContainer(fs, fileLayout));
            CliFiles.Report(target).WriteLine($"{Path.GetFileName(target)}: {image.Width}x{image.Height}, quality {encoded.Header.QualityLevel}{(step is { } s && encoded.Header.LayerCount > pack.Layout.Groups + (encoded.Header.PreviewLayer ? 1 : 0) ? $" + residual step {s} ({pack.ResidualSteps[s]:0.##} px)" : "")}{(refined is null ? "" : $" (refined latents, {refined.Iterations} iterations)")}, {encoded.Header.LayerCount} layers{(encoded.Header.PreviewLayer ? " (a preview layer first)" : "")}{(r.GetValue(maxBytes) is { } b ? $" (best within {b} bytes)" : "")}, " +
                $"{encoded.Header.TileCount} tiles, {bytes} bytes, {bytes * 8.0 / image.PixelCount:F4} bpp, {sw.Elapsed.TotalSeconds:F2} s");
            return CliRunner.Ok;
        }));
        return command;
    }
}
