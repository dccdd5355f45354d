using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>Result of one encode/decode round trip by an <see cref="IRdCodec"/>.</summary>
/// <param name="Bytes">Encoded size in bytes, counting everything a decoder needs (for JPEG/WebP the whole file).</param>
/// <param name="Reconstruction">The decoded image, same size as the original.</param>
/// <param name="EncodeSeconds">Wall-clock encode time.</param>
/// <param name="DecodeSeconds">Wall-clock decode time.</param>
public sealed record RdSample(long Bytes, RgbImage Reconstruction, double EncodeSeconds, double DecodeSeconds)
{
    /// <summary>Codec-specific counters of this run (e.g. EdgeCodec's tiles per expert, <c>expert_0</c> = base), or null.</summary>
    public IReadOnlyDictionary<string, long>? Counts { get; init; }
}
