using System.Diagnostics;
using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>Shared plumbing of <see cref="JpegCodec"/> and <see cref="WebpCodec"/>.</summary>
internal static class LegacyCodecRunner
{
    /// <summary>JPEG sweeps quality 5, 10, ..., 95 unless told otherwise.</summary>
    public static readonly IReadOnlyList<int> DefaultLevels = Enumerable.Range(1, 19).Select(i => i * 5).ToArray();

    /// <summary>
    /// WebP also sweeps 1 to 4: libwebp at quality 5 already gives 28.3 dB at 0.23 bpp on Kodak, so a 5-step sweep
    /// would leave the low-rate half of a learned codec's curve with no WebP anchor to compare against.
    /// </summary>
    public static readonly IReadOnlyList<int> WebpDefaultLevels = [1, 2, 3, 4, .. DefaultLevels];

    public static IReadOnlyList<int> Validate(IEnumerable<int> qualityLevels, string paramName)
    {
        ArgumentNullException.ThrowIfNull(qualityLevels, paramName);
        int[] levels = qualityLevels.ToArray();
        if (levels.Length == 0 || levels.Any(q => q is < 1 or > 100) || levels.Distinct().Count() != levels.Length)
        {
            throw new ArgumentException("Quality levels must be a non-empty set of distinct values in 1..100.", paramName);
        }

        return Array.AsReadOnly(levels);
    }

    public static RdSample Run(RgbImage image, int quality, IReadOnlyList<int> levels, Func<RgbImage, int, byte[]> encode)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!levels.Contains(quality))
        {
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "Not one of the codec's quality levels.");
        }

        long start = Stopwatch.GetTimestamp();
        byte[] encoded = encode(image, quality);
        TimeSpan encodeTime = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        RgbImage decoded = LegacyCodecs.Decode(encoded);
        TimeSpan decodeTime = Stopwatch.GetElapsedTime(start);
        return new RdSample(encoded.Length, decoded, encodeTime.TotalSeconds, decodeTime.TotalSeconds);
    }
}
