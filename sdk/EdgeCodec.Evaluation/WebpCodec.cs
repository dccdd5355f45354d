using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>Lossy WebP (libwebp, through <see cref="LegacyCodecs.EncodeWebp"/>) as a baseline for the rate-distortion harness.</summary>
/// <remarks>Rate is the length of the complete file, headers included.</remarks>
public sealed class WebpCodec : IRdCodec
{
    /// <summary>Sweeps quality 1, 2, 3, 4, 5, 10, ..., 95 (libwebp's quality 5 is already 28.3 dB on Kodak).</summary>
    public WebpCodec()
    {
        QualityLevels = LegacyCodecRunner.WebpDefaultLevels;
    }

    /// <summary>Sweeps the given quality levels.</summary>
    /// <param name="qualityLevels">Distinct values in 1..100.</param>
    /// <exception cref="ArgumentNullException"><paramref name="qualityLevels"/> is null.</exception>
    /// <exception cref="ArgumentException">The set is empty, has duplicates or values outside 1..100.</exception>
    public WebpCodec(IEnumerable<int> qualityLevels)
    {
        QualityLevels = LegacyCodecRunner.Validate(qualityLevels, nameof(qualityLevels));
    }

    /// <summary>Always <c>webp</c>.</summary>
    public string Name => "webp";

    /// <inheritdoc/>
    public IReadOnlyList<int> QualityLevels { get; }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Skia failed to encode the image.</exception>
    public RdSample Run(RgbImage image, int quality) =>
        LegacyCodecRunner.Run(image, quality, QualityLevels, LegacyCodecs.EncodeWebp);
}
