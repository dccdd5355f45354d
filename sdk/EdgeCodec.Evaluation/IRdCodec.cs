using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>A codec the rate-distortion harness can sweep: encode at a quality level, decode, report the cost.</summary>
/// <remarks>
/// The learned EdgeCodec codec plugs in by implementing this interface; <see cref="JpegCodec"/> and
/// <see cref="WebpCodec"/> are the baselines. <see cref="RdEvaluator"/> calls <see cref="Run"/> for several
/// images concurrently, so implementations must be thread-safe.
/// </remarks>
public interface IRdCodec
{
    /// <summary>Short lowercase identifier (e.g. <c>jpeg</c>); used as the key in reports and in JSON field names.</summary>
    string Name { get; }

    /// <summary>The quality settings to sweep, in the codec's own scale (higher = better quality, more bits).</summary>
    IReadOnlyList<int> QualityLevels { get; }

    /// <summary>Encodes <paramref name="image"/> at <paramref name="quality"/> and decodes the result.</summary>
    /// <param name="image">Original image; must not be modified.</param>
    /// <param name="quality">One of <see cref="QualityLevels"/>.</param>
    /// <returns>The size of everything a decoder needs (whole file or packet), the reconstruction and the timings.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is not supported.</exception>
    RdSample Run(RgbImage image, int quality);
}
