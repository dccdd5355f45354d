namespace EdgeCodec.Evaluation;

/// <summary>The headline numbers of an <see cref="RdReport"/>.</summary>
/// <param name="TestCodec">The codec every BD-rate is measured for.</param>
/// <param name="ImageCount">Number of images evaluated.</param>
/// <param name="BdRateVsJpeg">BD-rate (PSNR, average curves) of the test codec against <c>jpeg</c>, in percent;
/// null when there is no <c>jpeg</c> anchor, the test codec is <c>jpeg</c>, or the delta is undefined.</param>
/// <param name="BdRateVsWebp">As <paramref name="BdRateVsJpeg"/>, against <c>webp</c>.</param>
/// <param name="BdRateVs">BD-rate (PSNR, average curves) against every anchor, keyed by anchor name.</param>
public sealed record RdSummary(
    string TestCodec,
    int ImageCount,
    double? BdRateVsJpeg,
    double? BdRateVsWebp,
    IReadOnlyDictionary<string, double?> BdRateVs)
{
    /// <summary>Anchor name of the same codec without domain adapters (<c>edgecodec eval --adapters</c>).</summary>
    public const string NoAdaptersAnchor = "edgecodec-no-adapters";

    /// <summary>BD-rate of the test codec against <see cref="NoAdaptersAnchor"/> (same images, same quality levels,
    /// adapters off), in percent; null without that anchor.</summary>
    public double? BdRateVsNoAdapters { get; init; }

    /// <summary>The test codec's counters summed over every image and quality level (e.g. tiles per expert), or null.</summary>
    public IReadOnlyDictionary<string, long>? Counts { get; init; }
}
