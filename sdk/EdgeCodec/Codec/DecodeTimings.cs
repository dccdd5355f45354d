namespace EdgeCodec.Codec;

/// <summary>Where decode time went. Entropy and hyper are summed over the threads that ran tiles.</summary>
/// <param name="EntropySeconds">rANS decoding of z and y symbols (CPU seconds over all threads).</param>
/// <param name="HyperSeconds">Integer hyper decoder and context models (CPU seconds over all threads).</param>
/// <param name="TilesWallSeconds">Wall time of the whole entropy + hyper phase.</param>
/// <param name="SynthesisSeconds">Wall time of the synthesis on the backend.</param>
/// <param name="TotalSeconds">Wall time of the whole frame decode.</param>
public readonly record struct DecodeTimings(double EntropySeconds, double HyperSeconds, double TilesWallSeconds, double SynthesisSeconds, double TotalSeconds)
{
    /// <summary>
    /// Wall time of the residual layer after the synthesis: its integer inverse transform, and its rANS decoding when
    /// that could not run beside the synthesis (one thread); 0 without one. The decoding's own time is in
    /// <see cref="EntropySeconds"/>.
    /// </summary>
    public double ResidualSeconds { get; init; }
}
