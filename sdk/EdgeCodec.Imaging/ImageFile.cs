using SkiaSharp;

namespace EdgeCodec.Imaging;

/// <summary>Reads image files into <see cref="RgbImage"/> and writes lossless PNG.</summary>
/// <remarks>
/// <para>Decoding goes through Skia, so PNG, JPEG, WebP, GIF (first frame), BMP, ICO and WBMP are accepted.
/// The result is always 8-bit RGB:</para>
/// <list type="bullet">
/// <item>alpha is composited onto black (a fully transparent pixel becomes black);</item>
/// <item>no colour management: embedded ICC profiles are ignored and samples are taken as stored;</item>
/// <item>the EXIF orientation tag is applied, so the image comes back upright;</item>
/// <item>the header's dimensions are checked against <see cref="RgbImage.MaxDimension"/> before any pixel
/// buffer is allocated.</item>
/// </list>
/// </remarks>
public static class ImageFile
{
    /// <summary>Decodes the image file at <paramref name="path"/>.</summary>
    /// <param name="path">File to read.</param>
    /// <returns>The upright RGB image.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="InvalidDataException">The file is not a decodable image, is truncated, or a side
    /// exceeds <see cref="RgbImage.MaxDimension"/>; the message names the path.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened for reading.</exception>
    public static RgbImage Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return SkiaDecoder.Decode(File.ReadAllBytes(path), $"'{path}'");
    }

    /// <summary>Decodes an image from <paramref name="stream"/>, reading it to the end.</summary>
    /// <param name="stream">Readable stream positioned at the start of the file; it is not disposed.</param>
    /// <returns>The upright RGB image.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a decodable image, is truncated, or a side
    /// exceeds <see cref="RgbImage.MaxDimension"/>.</exception>
    /// <exception cref="IOException">Reading the stream failed.</exception>
    public static RgbImage Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return SkiaDecoder.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "the image stream");
    }

    /// <summary>Writes <paramref name="image"/> as an 8-bit RGB PNG (lossless), replacing any existing file.</summary>
    /// <param name="image">Image to write.</param>
    /// <param name="path">Destination file.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">Skia failed to encode the image.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened for writing.</exception>
    public static void SavePng(RgbImage image, string path)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllBytes(path, EncodePng(image));
    }

    /// <summary>Writes <paramref name="image"/> as an 8-bit RGB PNG (lossless) to <paramref name="stream"/>.</summary>
    /// <param name="image">Image to write.</param>
    /// <param name="stream">Writable stream; it is not disposed.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">Skia failed to encode the image.</exception>
    /// <exception cref="IOException">Writing the stream failed.</exception>
    public static void SavePng(RgbImage image, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(EncodePng(image));
    }

    private static byte[] EncodePng(RgbImage image) =>
        SkiaPixels.Encode(image, pixmap => pixmap.Encode(SKPngEncoderOptions.Default));
}
