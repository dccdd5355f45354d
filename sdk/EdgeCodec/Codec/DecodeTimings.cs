namespace EdgeCodec.Codec;

/// <summary>Where decode time went. Entropy and hyper are summed over the threads that ran tiles.</summary>
/// <param name="EntropySeconds">rANS decoding of z and y symbols (CPU seconds over all threads).</param>
/// <param name="HyperSeconds">Integer hyper decoder and context models (CPU seconds over all threads).</param>
/// <param name="TilesWallSeconds">Wall time of the whole entropy + hyper phase.</param>
/// <param name="SynthesisSeconds">Wall time of the synthesis on the backend.</param>
/// <param name="TotalSeconds">Wall time of the whole frame decode.</param>
public readonly record struct DecodeTimings(double EntropySeconds, double HyperSeconds, double TilesWallSeconds, double SynthesisSeconds, double TotalSeconds)
{
    /// <summary>Wall time of the residual layer (its rANS decoding and integer inverse transform); 0 without one.</summary>
    public double ResidualSeconds { get; init; }
}
