namespace EdgeCodec.Codec;

/// <summary>Encoder settings. Defaults suit a camera encoding stills.</summary>
public sealed class EncoderOptions
{
    /// <summary>Threads for analysis and tile coding; 0 = all cores. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Tile size in pixels (multiple of 64); 0 = the model pack's default. Default 0.</summary>
    public int TileSize { get; init; }

    /// <summary>
    /// Side of the largest region the float analysis (g_a) runs on at once, in pixels (rounded down to a multiple of 64);
    /// larger images are analysed region by region with a halo beyond g_a's receptive field, which bounds the encoder's
    /// memory (a 3840×2160 image took 3 GB in one pass). Latents match the one-pass analysis up to float rounding.
    /// Default 1024; 0 = one pass over the whole image.
    /// </summary>
    public int AnalysisRegion { get; init; } = 1024;

    /// <summary>
    /// Domain adapters the encoder may route tiles to. Adapters change only the synthesis, so every expert costs
    /// the same bits for a tile; the encoder picks, per tile, the expert with the lowest distortion (the RD
    /// optimum) and writes its id into the tile's packets. Empty = base synthesis everywhere. Default empty.
    /// </summary>
    public IReadOnlyList<Adapters.AdapterPackage> Experts { get; init; } = [];

    /// <summary>
    /// The decoder backend the encoder synthesises its own picture with, wherever it needs one (the residual layer's
    /// residual, the routing of <see cref="Experts"/>, <c>EncodeWithin</c>'s comparisons): a
    /// <see cref="Backends.DecoderBackends"/> name, or empty (or <c>auto</c>) for the highest-priority backend available for the pack
    /// (<c>cpu</c> where the CPU engine is registered, whose pictures equal the integer reference's on every machine;
    /// otherwise <c>onnx</c>). Never chosen by timing, so one configuration writes the same bytes however loaded the
    /// machine is. Default empty.
    /// </summary>
    public string Backend { get; init; } = "";

    /// <summary>
    /// The analysis transform's arithmetic: <see cref="AnalysisArithmetic.Float32"/> (every pack) or
    /// <see cref="AnalysisArithmetic.Int8"/> (faster, a little more rate; the pack must have
    /// <see cref="Models.ModelPack.AnalysisInt8Entry"/>). Default <see cref="AnalysisArithmetic.Float32"/>.
    /// </summary>
    public AnalysisArithmetic Analysis { get; init; } = AnalysisArithmetic.Float32;

    /// <summary>
    /// Writes each tile's hyper-latent as a layer of its own before the latent groups
    /// (<see cref="Format.ContainerHeader.PreviewLayer"/>): a cut download or a slow link shows a whole, blurred picture
    /// after a few percent of the stream instead of nothing until group 0 has arrived (docs/format.md, "The preview
    /// layer"). It costs one packet per tile; the latent layers and the finished picture are the same. Streams with it
    /// are container format version 2, which version-1 readers reject. The <c>layers</c> arguments of the encoder still
    /// count latent layers: the header's layer count is one more. Default false.
    /// </summary>
    public bool PreviewLayer { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
