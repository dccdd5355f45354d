using SkiaSharp;

namespace EdgeCodec.Imaging;

/// <summary>The one decode path shared by <see cref="ImageFile"/> and <see cref="LegacyCodecs"/>.</summary>
internal static class SkiaDecoder
{
    /// <summary>Decodes any format Skia knows into an upright RGB image.</summary>
    /// <param name="encoded">The whole file.</param>
    /// <param name="source">Names the input in error messages (a path, or a description).</param>
    /// <exception cref="InvalidDataException">The bytes are not a decodable image or its size is out of range.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> encoded, string source)
    {
        if (encoded.IsEmpty)
        {
            throw new InvalidDataException($"Cannot decode {source}: it is empty.");
        }

        using SKData data = SKData.CreateCopy(encoded);
        using SKCodec? codec = SKCodec.Create(data);
        if (codec is null)
        {
            throw new InvalidDataException($"Cannot decode {source}: not a recognised image format.");
        }

        // Check the header's dimensions before allocating or decoding any pixels: a hostile header can
        // claim a size whose buffer alone would exhaust memory.
        SKImageInfo header = codec.Info;
        if (header.Width < 1 || header.Height < 1
            || header.Width > RgbImage.MaxDimension || header.Height > RgbImage.MaxDimension)
        {
            throw new InvalidDataException(
                $"Cannot decode {source}: {header.Width}x{header.Height} is outside 1..{RgbImage.MaxDimension} per side.");
        }

        // Premultiplied output composites any alpha onto black; no colour space means samples are taken
        // as stored (no ICC conversion), which is what codec comparisons want.
        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
        {
            throw new InvalidDataException($"Cannot decode {source}: Skia reported {result}.");
        }

        RgbImage upright = SkiaPixels.FromRgba(rgba, header.Width, header.Height);
        return ExifOrientation.Apply(upright, codec.EncodedOrigin);
    }
}
