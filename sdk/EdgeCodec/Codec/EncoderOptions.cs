namespace EdgeCodec.Codec;

/// <summary>Encoder settings. Defaults suit a camera encoding stills.</summary>
public sealed class EncoderOptions
{
    /// <summary>Threads for analysis and tile coding; 0 = all cores. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Tile size in pixels (multiple of 64); 0 = the model pack's default. Default 0.</summary>
    public int TileSize { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
