namespace EdgeCodec.Imaging;

/// <summary>
/// An 8-bit sRGB image stored as interleaved R, G, B bytes, row-major, with no row padding.
/// </summary>
/// <remarks>
/// This is the SDK's only pixel container: encoders read it, decoders write it. The instance owns
/// <see cref="Pixels"/>; callers that keep a reference to the array after handing the image to the SDK
/// must not mutate it while an operation that reads it is running.
/// </remarks>
public sealed class RgbImage
{
    /// <summary>Largest width or height accepted anywhere in the SDK (16384 pixels).</summary>
    public const int MaxDimension = 16384;

    /// <summary>Creates a black image of the given size.</summary>
    /// <param name="width">Width in pixels, 1..<see cref="MaxDimension"/>.</param>
    /// <param name="height">Height in pixels, 1..<see cref="MaxDimension"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is outside 1..<see cref="MaxDimension"/>.</exception>
    public RgbImage(int width, int height)
        : this(width, height, new byte[checked(CheckDimension(width, nameof(width)) * CheckDimension(height, nameof(height)) * 3)])
    {
    }

    /// <summary>Wraps an existing interleaved RGB buffer; the image takes ownership of <paramref name="pixels"/>.</summary>
    /// <param name="width">Width in pixels, 1..<see cref="MaxDimension"/>.</param>
    /// <param name="height">Height in pixels, 1..<see cref="MaxDimension"/>.</param>
    /// <param name="pixels">Exactly <c>width * height * 3</c> bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is outside 1..<see cref="MaxDimension"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> has the wrong length.</exception>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        CheckDimension(width, nameof(width));
        CheckDimension(height, nameof(height));
        if (pixels.Length != width * height * 3)
        {
            throw new ArgumentException($"Expected {width * height * 3} bytes for a {width}x{height} RGB image, got {pixels.Length}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Interleaved RGB bytes, <c>Width * Height * 3</c> long.</summary>
    public byte[] Pixels { get; }

    /// <summary>Number of pixels (<c>Width * Height</c>).</summary>
    public long PixelCount => (long)Width * Height;

    /// <summary>One row of interleaved RGB bytes.</summary>
    /// <param name="y">Row index, 0..<see cref="Height"/>-1.</param>
    public Span<byte> Row(int y) => Pixels.AsSpan(checked(y * Width * 3), Width * 3);

    /// <summary>Checks one side against 1..<see cref="MaxDimension"/> (also for frames converted to or from images).</summary>
    internal static int CheckDimension(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxDimension, name);
        return value;
    }
}
