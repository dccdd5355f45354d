using SkiaSharp;

namespace EdgeCodec.Imaging;

/// <summary>In-memory JPEG and lossy WebP, the baselines the learned codec is measured against.</summary>
/// <remarks>
/// JPEG is Skia's libjpeg-turbo encoder with 4:2:0 chroma subsampling (the common default, and what
/// published Kodak baselines use); WebP is libwebp in lossy mode. Both return the complete file, so its
/// length is the honest rate including headers.
/// </remarks>
public static class LegacyCodecs
{
    /// <summary>Encodes <paramref name="image"/> as a baseline JPEG with 4:2:0 chroma subsampling.</summary>
    /// <param name="image">Image to encode.</param>
    /// <param name="quality">libjpeg quality, 1..100.</param>
    /// <returns>The complete JPEG file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is outside 1..100.</exception>
    /// <exception cref="InvalidOperationException">Skia failed to encode the image.</exception>
    public static byte[] EncodeJpeg(RgbImage image, int quality)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckQuality(quality);
        var options = new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore);
        return SkiaPixels.Encode(image, pixmap => pixmap.Encode(options));
    }

    /// <summary>Encodes <paramref name="image"/> as a lossy WebP.</summary>
    /// <param name="image">Image to encode.</param>
    /// <param name="quality">libwebp quality, 1..100.</param>
    /// <returns>The complete WebP (RIFF) file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is outside 1..100.</exception>
    /// <exception cref="InvalidOperationException">Skia failed to encode the image.</exception>
    public static byte[] EncodeWebp(RgbImage image, int quality)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckQuality(quality);
        var options = new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, quality);
        return SkiaPixels.Encode(image, pixmap => pixmap.Encode(options));
    }

    /// <summary>Decodes a complete JPEG, WebP, PNG or other Skia-supported file held in memory.</summary>
    /// <param name="data">The whole file.</param>
    /// <returns>The upright RGB image; alpha and colour handling are as in <see cref="ImageFile"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a decodable image, is truncated, or a side
    /// exceeds <see cref="RgbImage.MaxDimension"/>.</exception>
    public static RgbImage Decode(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return SkiaDecoder.Decode(data, $"the {data.Length}-byte buffer");
    }

    private static void CheckQuality(int quality)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
    }
}
