using System.Globalization;
using EdgeCodec.Imaging;

namespace EdgeCodec.Cli.Commands;

/// <summary>
/// A raw YUV frame's description on the command line: <c>LAYOUT[:WIDTHxHEIGHT][:COLOURSPACE]</c>, e.g. <c>nv12:1920x1080</c>,
/// <c>i420:640x480:bt709</c>, <c>nv21:jpeg</c>. Layouts: i420 (yu12), nv12, nv21, yuyv (yuy2). Colour spaces: bt601 (the
/// default), bt601-full (jpeg), bt709, bt709-full.
/// </summary>
internal sealed record YuvFrameFormat(YuvLayout Layout, YuvColorSpace ColorSpace, int Width, int Height)
{
    public const string Syntax = "LAYOUT[:WIDTHxHEIGHT][:COLOURSPACE], LAYOUT i420|nv12|nv21|yuyv, COLOURSPACE bt601 (default)|bt601-full|bt709|bt709-full";

    /// <summary>Parses <paramref name="text"/>; an input frame must give its size (<paramref name="sized"/>), an output frame must not.</summary>
    /// <exception cref="ArgumentException">Not the syntax, or a size given or missing.</exception>
    public static YuvFrameFormat Parse(string text, bool sized)
    {
        string[] parts = text.Split(':');
        var layout = parts[0].ToLowerInvariant() switch
        {
            "i420" or "yu12" => YuvLayout.I420,
            "nv12" => YuvLayout.Nv12,
            "nv21" => YuvLayout.Nv21,
            "yuyv" or "yuy2" => YuvLayout.Yuyv,
            _ => throw new ArgumentException($"'{parts[0]}' is not a YUV layout: {Syntax}"),
        };
        int width = 0, height = 0;
        var space = YuvColorSpace.Bt601Limited;
        bool hasSize = false, hasSpace = false;
        foreach (string part in parts.Skip(1))
        {
            string[] size = part.Split('x');
            if (!hasSize && !hasSpace && size.Length == 2 && int.TryParse(size[0], NumberStyles.None, CultureInfo.InvariantCulture, out width)
                && int.TryParse(size[1], NumberStyles.None, CultureInfo.InvariantCulture, out height))
            {
                hasSize = true;
                continue;
            }

            if (hasSpace)
            {
                throw new ArgumentException($"'{text}' has more than one colour space: {Syntax}");
            }

            hasSpace = true;
            space = part.ToLowerInvariant() switch
            {
                "bt601" => YuvColorSpace.Bt601Limited,
                "bt601-full" or "jpeg" => YuvColorSpace.Bt601Full,
                "bt709" => YuvColorSpace.Bt709Limited,
                "bt709-full" => YuvColorSpace.Bt709Full,
                _ => throw new ArgumentException($"'{part}' is neither a size nor a colour space: {Syntax}"),
            };
        }

        if (sized && !hasSize)
        {
            throw new ArgumentException($"'{text}' gives no size: a raw frame does not say how large it is ({Syntax})");
        }

        if (!sized && hasSize)
        {
            throw new ArgumentException($"'{text}' gives a size: the picture's own size is written ({Syntax})");
        }

        if (hasSize && (width is < 1 or > RgbImage.MaxDimension || height is < 1 or > RgbImage.MaxDimension))
        {
            throw new ArgumentException($"{width}x{height} is outside 1..{RgbImage.MaxDimension} on a side");
        }

        return new YuvFrameFormat(layout, space, width, height);
    }

    /// <summary>The picture in a raw frame of this format.</summary>
    /// <exception cref="InvalidDataException">The frame is not exactly one frame of this format's size.</exception>
    public RgbImage ToRgb(byte[] frame, string source)
    {
        int size = YuvConversion.FrameSize(Layout, Width, Height);
        if (frame.Length != size)
        {
            throw new InvalidDataException($"{source}: a {Width}x{Height} {Layout} frame is {size} bytes; it has {frame.Length}" +
                (frame.Length > size && frame.Length % size == 0 ? $" ({frame.Length / size} frames: encode one at a time)" : ""));
        }

        return YuvConversion.ToRgb(frame, Layout, Width, Height, ColorSpace);
    }
}
