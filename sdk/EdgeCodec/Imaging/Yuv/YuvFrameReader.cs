namespace EdgeCodec.Imaging;

/// <summary>
/// Reads raw YUV video, packed frames back to back with no header (a <c>.yuv</c> file, <c>libcamera-vid --codec yuv420
/// -o -</c>, <c>ffmpeg -f rawvideo</c>), one frame at a time into a kept <see cref="RgbImage"/>.
/// </summary>
/// <remarks>
/// <para>The reader owns one frame buffer (<see cref="FrameBytes"/>, allocated once) and nothing else; it does not own or
/// dispose the stream. Reads may return any number of bytes (a pipe, a socket): a frame is complete when all its bytes
/// have arrived. The stream ending exactly between frames is the end of the video; ending inside a frame is an
/// <see cref="InvalidDataException"/> that says where, after every whole frame before it was delivered.</para>
/// <para>Each frame is converted with <see cref="YuvConversion.ToRgb(ReadOnlySpan{byte}, YuvLayout, RgbImage, YuvColorSpace)"/>,
/// so a frame read here gives the same pixels as the same bytes converted directly.</para>
/// </remarks>
public sealed class YuvFrameReader
{
    private readonly Stream source;
    private readonly byte[] frame;

    /// <summary>Creates a reader of packed frames of one layout, size and colour space.</summary>
    /// <param name="source">The raw video; read forward only.</param>
    /// <param name="layout">The frames' layout.</param>
    /// <param name="width">Frame width in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <param name="height">Frame height in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <param name="colorSpace">The frames' matrix and range (BT.601 limited if not given).</param>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> cannot be read.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, the layout or the colour space is out of range.</exception>
    public YuvFrameReader(Stream source, YuvLayout layout, int width, int height, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(source));
        }

        YuvCoefficients.For(colorSpace); // an undefined colour space fails here, not at the first frame
        FrameBytes = YuvConversion.FrameSize(layout, width, height);
        this.source = source;
        frame = new byte[FrameBytes];
        Layout = layout;
        Width = width;
        Height = height;
        ColorSpace = colorSpace;
    }

    /// <summary>The frames' layout.</summary>
    public YuvLayout Layout { get; }

    /// <summary>Frame width in pixels.</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; }

    /// <summary>The frames' matrix and range.</summary>
    public YuvColorSpace ColorSpace { get; }

    /// <summary>Bytes of one packed frame.</summary>
    public int FrameBytes { get; }

    /// <summary>Whole frames delivered so far.</summary>
    public long FramesRead { get; private set; }

    /// <summary>Reads the next frame into <paramref name="destination"/>.</summary>
    /// <param name="destination">Receives the picture; its size must be the frames' (<see cref="Width"/> × <see cref="Height"/>).</param>
    /// <returns><see langword="true"/> with the frame in <paramref name="destination"/>; <see langword="false"/> when the
    /// stream ended exactly after the last whole frame (<paramref name="destination"/> is then unchanged).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not the frames' size.</exception>
    /// <exception cref="InvalidDataException">The stream ended inside a frame.</exception>
    public bool TryRead(RgbImage destination)
    {
        CheckDestination(destination);
        return Complete(source.ReadAtLeast(frame, frame.Length, throwOnEndOfStream: false), destination);
    }

    /// <summary>Reads the next frame into <paramref name="destination"/> without blocking a thread while bytes arrive.</summary>
    /// <param name="destination">Receives the picture; its size must be the frames' (<see cref="Width"/> × <see cref="Height"/>).</param>
    /// <param name="cancellationToken">Stops the wait; the frame being read is then lost and the stream's position undefined.</param>
    /// <returns><see langword="true"/> with the frame in <paramref name="destination"/>; <see langword="false"/> when the
    /// stream ended exactly after the last whole frame.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not the frames' size.</exception>
    /// <exception cref="InvalidDataException">The stream ended inside a frame.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<bool> TryReadAsync(RgbImage destination, CancellationToken cancellationToken = default)
    {
        CheckDestination(destination);
        int filled = await source.ReadAtLeastAsync(frame, frame.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return Complete(filled, destination);
    }

    private void CheckDestination(RgbImage destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Width != Width || destination.Height != Height)
        {
            throw new ArgumentException($"The destination is {destination.Width}x{destination.Height}; the frames are {Width}x{Height}.", nameof(destination));
        }
    }

    private bool Complete(int filled, RgbImage destination)
    {
        if (filled == 0)
        {
            return false;
        }

        if (filled < frame.Length)
        {
            throw new InvalidDataException(
                $"The video ended {filled} bytes into frame {FramesRead} ({Layout} {Width}x{Height} frames are {frame.Length} bytes); {FramesRead} whole frames came before it.");
        }

        YuvConversion.ToRgb(frame, Layout, destination, ColorSpace);
        FramesRead++;
        return true;
    }
}
