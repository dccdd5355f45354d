using System.CommandLine;
using EdgeCodec.Format;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary><c>edgecodec info IN.ecx</c>: header, packets and what a damaged file still holds.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "Container (.ecx), or - for standard input" };
        var command = new Command("info", "Describe an EdgeCodec container") { input };
        command.SetAction(r => CliRunner.Run(() =>
        {
            var file = r.GetRequiredValue(input);
            byte[] bytes = CliFiles.ReadAll(file);
            var read = ContainerReader.Read(bytes);
            var h = read.Header;
            var table = new Table().AddColumns("field", "value").Border(TableBorder.Rounded);
            table.AddRow("file", Markup.Escape($"{(CliFiles.IsStandard(file) ? "standard input" : file.Name)} ({bytes.Length} bytes)"));
            table.AddRow("layout", read.Layout.ToString().ToLowerInvariant());
            table.AddRow("model id", $"{h.ModelId:x16}");
            table.AddRow("image", $"{h.Width}x{h.Height}, {h.FrameCount} frame(s)");
            table.AddRow("tiles", $"{h.TileColumns}x{h.TileRows} of {h.TileWidth}x{h.TileHeight}");
            table.AddRow("layers", $"{h.LayerCount}{(h.PreviewLayer ? " (layer 0: the preview layer, z alone)" : "")}");
            table.AddRow("format version", h.FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("quality level", h.QualityLevel.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("status", Markup.Escape($"{read.Status}{(read.Message is null ? "" : ": " + read.Message)}"));
            table.AddRow("packets", $"{read.PacketsRecovered} (index used: {read.UsedIndex})");
            table.AddRow("bpp", $"{bytes.Length * 8.0 / ((double)h.Width * h.Height):F4}");
            long payload = read.Packets.Sum(p => (long)p.Payload.Length);
            table.AddRow("framing", $"{bytes.Length - payload} bytes besides the {payload} payload bytes");
            foreach (var layer in read.Packets.GroupBy(p => p.Layer).OrderBy(g => g.Key))
            {
                table.AddRow($"layer {layer.Key}", $"{layer.Count()} packets, {layer.Sum(p => p.Payload.Length)} payload bytes");
            }

            AnsiConsole.Write(table);
            return read.IsComplete ? CliRunner.Ok : CliRunner.BadInput;
        }));
        return command;
    }
}
