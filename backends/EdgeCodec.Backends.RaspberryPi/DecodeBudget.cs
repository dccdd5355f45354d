namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>How much decode work the governor allows: threads and refinement layers per frame.</summary>
/// <param name="Threads">Threads for tile decoding and synthesis.</param>
/// <param name="MaxLayers">Refinement layers to decode (1 = base only; a stream's preview layer is not counted).</param>
public readonly record struct DecodeBudget(int Threads, int MaxLayers);
