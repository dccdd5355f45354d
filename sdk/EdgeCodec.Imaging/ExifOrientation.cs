using SkiaSharp;

namespace EdgeCodec.Imaging;

/// <summary>Turns a decoded image upright according to its EXIF orientation.</summary>
/// <remarks>
/// <see cref="SKCodec"/> reports the orientation but does not apply it. Remapping whole pixels keeps the
/// operation exact (no resampling), which a Skia canvas transform would not guarantee.
/// </remarks>
internal static class ExifOrientation
{
    public static RgbImage Apply(RgbImage src, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or (SKEncodedOrigin)0)
        {
            return src;
        }

        int w = src.Width;
        int h = src.Height;
        bool transposed = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var dst = transposed ? new RgbImage(h, w) : new RgbImage(w, h);
        int dw = dst.Width;
        byte[] s = src.Pixels;
        byte[] d = dst.Pixels;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                // Each case maps source (x, y) to where it is displayed; names follow the EXIF tag values 2..8.
                (int dx, int dy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (h - 1 - y, x),
                    SKEncodedOrigin.RightBottom => (h - 1 - y, w - 1 - x),
                    SKEncodedOrigin.LeftBottom => (y, w - 1 - x),
                    _ => (x, y),
                };
                int si = ((y * w) + x) * 3;
                int di = ((dy * dw) + dx) * 3;
                d[di] = s[si];
                d[di + 1] = s[si + 1];
                d[di + 2] = s[si + 2];
            }
        }

        return dst;
    }
}
