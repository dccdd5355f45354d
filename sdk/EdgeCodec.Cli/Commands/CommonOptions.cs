using System.CommandLine;

namespace EdgeCodec.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo?> Model() => new("--model", "-m")
    {
        Description = "Model pack (.ecpack); default: $EDGECODEC_MODEL or the newest pack in models/",
    };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Threads (0 = all cores)",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> Backend() => new("--backend", "-b")
    {
        Description = "Decoder backend: auto, reference, onnx, onnx-fp32 (and registered plug-ins)",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<int> SynthesisRegion() => new("--synthesis-region")
    {
        Description = "Side of the largest synthesis window in pixels (0 = one window per tile); pixels do not depend on it",
        DefaultValueFactory = _ => new Codec.DecoderOptions().SynthesisRegion,
    };

    public static Option<int> TileSize() => new("--tile-size")
    {
        Description = "Entropy tile side in pixels, a multiple of 64 (0 = the model pack's); smaller tiles isolate losses, larger ones cost fewer bits",
        DefaultValueFactory = _ => 0,
    };

    public static Option<Format.ContainerLayout?> Layout(string fallback) => new("--layout")
    {
        Description = $"Container layout: compact (one picture, smallest) or indexed (appendable); default: {fallback}",
    };

    public static Option<Codec.AnalysisArithmetic> Analysis() => new("--analysis")
    {
        Description = "The encoder's analysis arithmetic: Float32 (every pack) or Int8 (faster, a little more rate; packs exported since session 41)",
        DefaultValueFactory = _ => Codec.AnalysisArithmetic.Float32,
    };

    public static Option<FileInfo?> Json() => new("--json")
    {
        Description = "Write measurements as JSON to this file",
    };
}
