using System.CommandLine;
using System.Globalization;
using EdgeCodec.Format;

namespace EdgeCodec.Cli.Commands;

/// <summary>
/// <c>edgecodec trim IN.ecx (--layers K | --max-bytes B | --preview-layer | --no-preview-layer) -o OUT.ecx [--layout compact|indexed]</c>:
/// keep the first K refinement layers, or as many as fit in B bytes, without re-encoding (and convert the layout, or
/// add or remove a preview layer, on the way).
/// </summary>
internal static class TrimCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "Container (.ecx), or - for standard input" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Container to write (.ecx), a folder for a file of the input's name, or - for standard output", Required = true };
        var layers = new Option<int?>("--layers", "-l") { Description = "Refinement layers to keep (1 = base layer only)" };
        var maxBytes = new Option<long?>("--max-bytes") { Description = "Keep as many layers as fit in this many bytes" };
        var preview = new Option<bool>("--preview-layer")
        {
            Description = "Add a preview layer first (each tile's hyper-latent as a packet of its own; same payloads, no re-encoding); --layers and --max-bytes then count it",
        };
        var noPreview = new Option<bool>("--no-preview-layer")
        {
            Description = "Remove the preview layer (z joins group 0 in the base layer again: a version-1 file that older readers take; no re-encoding); --layers and --max-bytes then count without it",
        };
        var layout = CommonOptions.Layout("the input's");
        var command = new Command("trim", "Keep the first K refinement layers of a container (a smaller, coarser file; no re-encoding)")
        {
            input, output, layers, maxBytes, layout, preview, noPreview,
        };
        command.SetAction(r => CliRunner.Run(() =>
        {
            FileInfo sourceFile = r.GetRequiredValue(input);
            string source = CliFiles.IsStandard(sourceFile) ? CliFiles.Standard : CliFiles.Input(sourceFile);
            int? keep = r.GetValue(layers);
            long? budget = r.GetValue(maxBytes);
            ContainerLayout? fileLayout = r.GetValue(layout); // null: the input's
            bool addPreview = r.GetValue(preview);
            bool dropPreview = r.GetValue(noPreview);
            if (addPreview && dropPreview)
            {
                return CliRunner.Error(CliRunner.Usage, "give --preview-layer or --no-preview-layer, not both");
            }

            if (keep is not null && budget is not null || (keep is null && budget is null && !addPreview && !dropPreview))
            {
                return CliRunner.Error(CliRunner.Usage, "give either --layers or --max-bytes (or --preview-layer / --no-preview-layer)");
            }

            if (budget <= 0)
            {
                return CliRunner.Error(CliRunner.Usage, "--max-bytes must be positive");
            }

            string target = CliFiles.Output(r.GetRequiredValue(output), CliFiles.Stem(sourceFile) + ".ecx");
            if (source != CliFiles.Standard && string.Equals(source, target, StringComparison.Ordinal))
            {
                return CliRunner.Error(CliRunner.BadInput, "the output must be another file than the input");
            }

            byte[] bytes = CliFiles.ReadAll(sourceFile);
            ContainerReadResult read = ContainerReader.Read(bytes);

            bool damaged = !read.IsComplete;
            string? damage = damaged ? $"the input is damaged ({read.Status}: {read.Message}); its {read.PacketsRecovered} intact packets were kept" : null;
            if (addPreview || dropPreview)
            {
                string? refusal = addPreview
                    ? (read.Header.PreviewLayer ? "the input already has a preview layer" : null)
                    : !read.Header.PreviewLayer ? "the input has no preview layer"
                    : read.Header.LayerCount < 2 ? "the input holds only its preview layer, which has no form without one"
                    : null;
                if (refusal is not null)
                {
                    return CliRunner.Error(CliRunner.BadInput, refusal);
                }

                using var converted = new MemoryStream();
                if (addPreview)
                {
                    ContainerWriter.WriteWithPreviewLayer(read, converted, fileLayout);
                }
                else
                {
                    ContainerWriter.WriteWithoutPreviewLayer(read, converted, fileLayout);
                }

                converted.Position = 0;
                read = ContainerReader.Read(converted); // the layers below count the converted file's layers
                keep ??= budget is null ? read.Header.LayerCount : null;
            }

            if (keep is { } k && (k < 1 || k > read.Header.LayerCount))
            {
                return CliRunner.Error(CliRunner.Usage, $"--layers must be 1 .. {read.Header.LayerCount} for this file");
            }

            using var trimmed = new MemoryStream();
            int kept = budget is { } b ? ContainerWriter.WriteLayerPrefixWithin(read, b, trimmed, fileLayout) : keep!.Value;
            if (budget is null)
            {
                ContainerWriter.WriteLayerPrefix(read, kept, trimmed, fileLayout);
            }

            if (kept == 0)
            {
                using var probe = new MemoryStream();
                ContainerWriter.WriteLayerPrefix(read, 1, probe, fileLayout);
                return CliRunner.Error(CliRunner.Usage, $"even the base layer alone takes {probe.Length} bytes, more than --max-bytes {budget}");
            }

            CliFiles.WriteWhole(target, trimmed.WriteTo); // an existing output is replaced only by a whole file
            long before = bytes.Length, after = trimmed.Length;
            CliFiles.Report(target).WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(target)}: {kept} of {read.Header.LayerCount} layers, {after} bytes ({100.0 * after / before:F1} % of {before})"));
            if (damaged)
            {
                return CliRunner.Error(CliRunner.BadInput, damage!);
            }

            return CliRunner.Ok;
        }));
        return command;
    }
}
