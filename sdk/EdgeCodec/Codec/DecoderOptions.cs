using EdgeCodec.Backends;

namespace EdgeCodec.Codec;

/// <summary>Decoder settings.</summary>
public sealed class DecoderOptions
{
    /// <summary>Backend name (<c>reference</c>, <c>onnx</c>, <c>onnx-fp32</c>, registered plug-ins) or <c>auto</c>. Default <c>auto</c>.</summary>
    public string Backend { get; init; } = DecoderBackends.Auto;

    /// <summary>Threads for tile decoding and synthesis; 0 = all cores. Results never depend on it. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Decode at most this many refinement layers (1..groups, or groups + 1 with the residual layer); 0 = all that arrived. Default 0.</summary>
    public int MaxLayers { get; init; }

    /// <summary>Receives backend-selection and concealment messages; may be null.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Installed domain adapters (e.g. an <see cref="Adapters.AdapterRegistry"/>); null = base synthesis only.</summary>
    public Adapters.IAdapterSource? Adapters { get; init; }

    /// <summary>
    /// Side of the largest synthesis window in pixels (rounded down to whole tiles, at least one tile). Neighbouring
    /// tiles decoded by the same backend are synthesised together, so the halo around each window is computed once
    /// per region instead of once per tile; memory is bounded by this size, not by the image. Pixels do not depend on
    /// it (bit-exact backends give identical output for every value). Default 768; <c>0</c> = one window per tile.
    /// Backends that compile one graph per window shape (<see cref="ISynthesisBackend.PrefersTileWindows"/>) always
    /// get one window per tile.
    /// </summary>
    public int SynthesisRegion { get; init; } = 768;

    /// <summary>Largest image (pixels) the decoder accepts from a header; guards memory. Default 64 Mpx.</summary>
    public long MaxPixels { get; init; } = 64L << 20;

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
