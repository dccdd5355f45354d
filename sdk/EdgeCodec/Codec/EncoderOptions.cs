namespace EdgeCodec.Codec;

/// <summary>Encoder settings. Defaults suit a camera encoding stills.</summary>
public sealed class EncoderOptions
{
    /// <summary>Threads for analysis and tile coding; 0 = all cores. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Tile size in pixels (multiple of 64); 0 = the model pack's default. Default 0.</summary>
    public int TileSize { get; init; }

    /// <summary>
    /// Domain adapters the encoder may route tiles to. Adapters change only the synthesis, so every expert costs
    /// the same bits for a tile; the encoder picks, per tile, the expert with the lowest distortion (the RD
    /// optimum) and writes its id into the tile's packets. Empty = base synthesis everywhere. Default empty.
    /// </summary>
    public IReadOnlyList<Adapters.AdapterPackage> Experts { get; init; } = [];

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
