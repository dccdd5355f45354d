using System.Runtime.InteropServices;
using SkiaSharp;

namespace EdgeCodec.Imaging;

/// <summary>Moves pixels between <see cref="RgbImage"/> (packed RGB) and Skia's 32-bit RGBA layout.</summary>
/// <remarks>
/// Skia has no 24-bit colour type, so every hand-over goes through one RGBA buffer. The loops work on whole
/// spans with no per-pixel Skia calls; the JIT bounds-check-eliminates them well enough that they cost far
/// less than the codec they feed.
/// </remarks>
internal static class SkiaPixels
{
    /// <summary>Packs RGB into opaque RGBA (alpha 255).</summary>
    public static byte[] ToRgba(RgbImage image)
    {
        var rgba = new byte[checked((int)image.PixelCount * 4)];
        ReadOnlySpan<byte> src = image.Pixels;
        Span<byte> dst = rgba;
        for (int s = 0, d = 0; s < src.Length; s += 3, d += 4)
        {
            dst[d] = src[s];
            dst[d + 1] = src[s + 1];
            dst[d + 2] = src[s + 2];
            dst[d + 3] = 255;
        }

        return rgba;
    }

    /// <summary>Drops the fourth byte of every RGBA pixel.</summary>
    public static RgbImage FromRgba(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var rgb = new byte[checked(width * height * 3)];
        Span<byte> dst = rgb;
        for (int s = 0, d = 0; d < dst.Length; s += 4, d += 3)
        {
            dst[d] = rgba[s];
            dst[d + 1] = rgba[s + 1];
            dst[d + 2] = rgba[s + 2];
        }

        return new RgbImage(width, height, rgb);
    }

    /// <summary>Runs <paramref name="encode"/> on an opaque RGBA pixmap view of <paramref name="image"/>.</summary>
    public static byte[] Encode(RgbImage image, Func<SKPixmap, SKData?> encode)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] rgba = ToRgba(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        GCHandle pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, pin.AddrOfPinnedObject(), info.RowBytes);
            using SKData? data = encode(pixmap);
            if (data is null)
            {
                throw new InvalidOperationException("Skia failed to encode the image.");
            }

            return data.ToArray();
        }
        finally
        {
            pin.Free();
        }
    }
}
