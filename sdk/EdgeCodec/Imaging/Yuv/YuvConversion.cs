using System.Buffers;

namespace EdgeCodec.Imaging;

/// <summary>
/// Converts camera and video frames in YUV (I420, NV12, NV21, YUYV) to the <see cref="RgbImage"/> the encoder reads, and
/// decoded pictures back to YUV for display planes and video pipelines.
/// </summary>
/// <remarks>
/// <para>Integer arithmetic throughout (constants with 14 fraction bits, rounded to nearest, clamped to 0..255), so the
/// bytes are the same on every machine. YUV → RGB runs a 128-bit vector kernel where vectors are hardware-accelerated
/// (x64 and Arm64), and so does RGB → YUV, each bit-identical to its scalar reference.</para>
/// <para>Chroma is taken as it comes: each chroma sample covers its 2×2 (4:2:0) or 2×1 (4:2:2) block of pixels, which
/// YUV → RGB replicates and RGB → YUV averages (box filter, as libyuv's default conversions). Odd widths and heights
/// give the last chroma sample a partial block.</para>
/// <para>A packed frame is the layout's planes back to back with no row padding (<see cref="FrameSize"/> bytes): a raw
/// <c>.yuv</c> file, a V4L2 buffer of a single-planar format whose rows are not padded. Padded rows and separate planes (V4L2
/// multi-planar buffers, Android's <c>Image.Plane</c>s) go through the overload with a stride per plane.</para>
/// </remarks>
public static class YuvConversion
{
    /// <summary>Bytes of a packed frame of this layout and size.</summary>
    /// <param name="layout">The layout.</param>
    /// <param name="width">Width in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <param name="height">Height in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <returns>The frame's size in bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range, or the layout is not defined.</exception>
    public static int FrameSize(YuvLayout layout, int width, int height)
    {
        RgbImage.CheckDimension(width, nameof(width));
        RgbImage.CheckDimension(height, nameof(height));
        int chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2;
        return layout switch
        {
            YuvLayout.I420 or YuvLayout.Nv12 or YuvLayout.Nv21 => (width * height) + (2 * chromaWidth * chromaHeight),
            YuvLayout.Yuyv => 4 * chromaWidth * height,
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Not a YUV layout."),
        };
    }

    /// <summary>Converts a packed YUV frame to a new RGB image.</summary>
    /// <param name="frame">The packed frame: at least <see cref="FrameSize"/> bytes.</param>
    /// <param name="layout">Its layout.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="colorSpace">Its matrix and range (BT.601 limited if not given).</param>
    /// <returns>The picture.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, the layout or the colour space is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="frame"/> is shorter than the frame.</exception>
    public static RgbImage ToRgb(ReadOnlySpan<byte> frame, YuvLayout layout, int width, int height, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        CheckFrame(frame.Length, layout, width, height, nameof(frame));
        var image = new RgbImage(width, height);
        ToRgb(frame, layout, image, colorSpace);
        return image;
    }

    /// <summary>Converts a packed YUV frame into an existing RGB image of the frame's size (no allocation per frame).</summary>
    /// <param name="frame">The packed frame: at least <see cref="FrameSize"/> bytes for the destination's size.</param>
    /// <param name="layout">Its layout.</param>
    /// <param name="destination">Receives the picture; its size is the frame's.</param>
    /// <param name="colorSpace">Its matrix and range (BT.601 limited if not given).</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layout or the colour space is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="frame"/> is shorter than the frame.</exception>
    public static void ToRgb(ReadOnlySpan<byte> frame, YuvLayout layout, RgbImage destination, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        ArgumentNullException.ThrowIfNull(destination);
        int width = destination.Width, height = destination.Height;
        CheckFrame(frame.Length, layout, width, height, nameof(frame));
        var (p0, s0, p1, s1, p2, s2) = PackedPlanes(layout, width, height);
        ToRgb(layout, frame[p0], s0, frame[p1], s1, frame[p2], s2, destination, colorSpace);
    }

    /// <summary>Converts a YUV frame given plane by plane, each with its own row stride, into an existing RGB image.</summary>
    /// <param name="layout">The layout, which says what the planes are: I420: Y, U, V; NV12: Y, UV; NV21: Y, VU; YUYV: the
    /// one interleaved plane. Planes a layout does not have are ignored (pass <c>default</c> and 0).</param>
    /// <param name="plane0">The first plane.</param>
    /// <param name="stride0">Bytes from one row of <paramref name="plane0"/> to the next (at least its row's bytes).</param>
    /// <param name="plane1">The second plane, if the layout has one.</param>
    /// <param name="stride1">Its row stride.</param>
    /// <param name="plane2">The third plane, if the layout has one.</param>
    /// <param name="stride2">Its row stride.</param>
    /// <param name="destination">Receives the picture; its size is the frame's.</param>
    /// <param name="colorSpace">The frame's matrix and range (BT.601 limited if not given).</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layout or the colour space is not defined.</exception>
    /// <exception cref="ArgumentException">A stride is shorter than its plane's row, or a plane is shorter than its rows; the
    /// message names the plane.</exception>
    public static void ToRgb(YuvLayout layout, ReadOnlySpan<byte> plane0, int stride0, ReadOnlySpan<byte> plane1, int stride1,
        ReadOnlySpan<byte> plane2, int stride2, RgbImage destination, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var c = YuvCoefficients.For(colorSpace);
        int width = destination.Width, height = destination.Height;
        int chromaWidth = (width + 1) / 2;
        CheckPlanes(layout, width, height, plane0, stride0, plane1, stride1, plane2, stride2);
        switch (layout)
        {
            case YuvLayout.I420:
                for (int row = 0; row < height; row++)
                {
                    YuvRowKernels.ToRgb(plane0.Slice(row * stride0, width), plane1.Slice((row >> 1) * stride1, chromaWidth),
                        plane2.Slice((row >> 1) * stride2, chromaWidth), destination.Row(row), c);
                }

                return;
            case YuvLayout.Nv12 or YuvLayout.Nv21:
            {
                byte[] chroma = ArrayPool<byte>.Shared.Rent(2 * chromaWidth);
                try
                {
                    Span<byte> first = chroma.AsSpan(0, chromaWidth), second = chroma.AsSpan(chromaWidth, chromaWidth);
                    for (int row = 0; row < height; row++)
                    {
                        if ((row & 1) == 0)
                        {
                            ChromaInterleave.Split(plane1.Slice((row >> 1) * stride1, 2 * chromaWidth), first, second);
                        }

                        YuvRowKernels.ToRgb(plane0.Slice(row * stride0, width), layout == YuvLayout.Nv12 ? first : second,
                            layout == YuvLayout.Nv12 ? second : first, destination.Row(row), c);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chroma);
                }

                return;
            }

            default: // YUYV (CheckPlanes refused any other layout)
            {
                byte[] samples = ArrayPool<byte>.Shared.Rent(4 * chromaWidth);
                try
                {
                    Span<byte> luma = samples.AsSpan(0, 2 * chromaWidth), u = samples.AsSpan(2 * chromaWidth, chromaWidth), v = samples.AsSpan(3 * chromaWidth, chromaWidth);
                    for (int row = 0; row < height; row++)
                    {
                        ChromaInterleave.SplitYuyv(plane0.Slice(row * stride0, 4 * chromaWidth), luma, u, v);
                        YuvRowKernels.ToRgb(luma[..width], u, v, destination.Row(row), c);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(samples);
                }

                return;
            }
        }
    }

    /// <summary>Converts an RGB image to a new packed YUV frame.</summary>
    /// <param name="image">The picture.</param>
    /// <param name="layout">The frame's layout.</param>
    /// <param name="colorSpace">The frame's matrix and range (BT.601 limited if not given).</param>
    /// <returns><see cref="FrameSize"/> bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layout or the colour space is not defined.</exception>
    public static byte[] FromRgb(RgbImage image, YuvLayout layout, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] frame = new byte[FrameSize(layout, image.Width, image.Height)];
        FromRgb(image, layout, frame, colorSpace);
        return frame;
    }

    /// <summary>Converts an RGB image into a packed YUV frame (for a display plane or a video encoder's input buffer).</summary>
    /// <param name="image">The picture.</param>
    /// <param name="layout">The frame's layout.</param>
    /// <param name="frame">Receives <see cref="FrameSize"/> bytes.</param>
    /// <param name="colorSpace">The frame's matrix and range (BT.601 limited if not given).</param>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layout or the colour space is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="frame"/> is shorter than the frame.</exception>
    public static void FromRgb(RgbImage image, YuvLayout layout, Span<byte> frame, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        ArgumentNullException.ThrowIfNull(image);
        int width = image.Width, height = image.Height;
        CheckFrame(frame.Length, layout, width, height, nameof(frame));
        var (p0, s0, p1, s1, p2, s2) = PackedPlanes(layout, width, height);
        FromRgb(image, layout, frame[p0], s0, frame[p1], s1, frame[p2], s2, colorSpace);
    }

    /// <summary>Converts an RGB image into a YUV frame given plane by plane, each with its own row stride (a display plane
    /// whose rows are padded to its pitch, a V4L2 multi-planar output buffer, a video encoder's aligned input).</summary>
    /// <param name="image">The picture.</param>
    /// <param name="layout">The frame's layout, which says what the planes are: I420: Y, U, V; NV12: Y, UV; NV21: Y, VU; YUYV:
    /// the one interleaved plane. Planes a layout does not have are ignored (pass <c>default</c> and 0).</param>
    /// <param name="plane0">Receives the first plane.</param>
    /// <param name="stride0">Bytes from one row of <paramref name="plane0"/> to the next (at least its row's bytes).</param>
    /// <param name="plane1">Receives the second plane, if the layout has one.</param>
    /// <param name="stride1">Its row stride.</param>
    /// <param name="plane2">Receives the third plane, if the layout has one.</param>
    /// <param name="stride2">Its row stride.</param>
    /// <param name="colorSpace">The frame's matrix and range (BT.601 limited if not given).</param>
    /// <remarks>Only the samples are written: the bytes between a row's end and the next row (the padding) are left as they were.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layout or the colour space is not defined.</exception>
    /// <exception cref="ArgumentException">A stride is shorter than its plane's row, or a plane is shorter than its rows; the
    /// message names the plane.</exception>
    public static void FromRgb(RgbImage image, YuvLayout layout, Span<byte> plane0, int stride0, Span<byte> plane1, int stride1,
        Span<byte> plane2, int stride2, YuvColorSpace colorSpace = YuvColorSpace.Bt601Limited)
    {
        ArgumentNullException.ThrowIfNull(image);
        var c = YuvCoefficients.For(colorSpace);
        int width = image.Width, height = image.Height;
        int chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2;
        CheckPlanes(layout, width, height, plane0, stride0, plane1, stride1, plane2, stride2);

        if (layout != YuvLayout.Yuyv)
        {
            for (int row = 0; row < height; row++)
            {
                RgbToYuvKernels.Luma(image.Row(row), plane0.Slice(row * stride0, width), c);
            }
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent(4 * chromaWidth);
        try
        {
            Span<byte> u = scratch.AsSpan(0, chromaWidth), v = scratch.AsSpan(chromaWidth, chromaWidth), luma = scratch.AsSpan(2 * chromaWidth, 2 * chromaWidth);

            // 4:2:0 blocks are two rows high (an odd height's last row stands for both); 4:2:2 blocks one row.
            for (int cy = 0; cy < (layout == YuvLayout.Yuyv ? height : chromaHeight); cy++)
            {
                Span<byte> top = image.Row(layout == YuvLayout.Yuyv ? cy : 2 * cy);
                Span<byte> bottom = layout != YuvLayout.Yuyv && (2 * cy) + 1 < height ? image.Row((2 * cy) + 1) : top;
                switch (layout)
                {
                    case YuvLayout.I420:
                        RgbToYuvKernels.Chroma(top, bottom, plane1.Slice(cy * stride1, chromaWidth), plane2.Slice(cy * stride2, chromaWidth), c);
                        break;
                    case YuvLayout.Nv12 or YuvLayout.Nv21:
                        RgbToYuvKernels.Chroma(top, bottom, u, v, c);
                        ChromaInterleave.Merge(layout == YuvLayout.Nv12 ? u : v, layout == YuvLayout.Nv12 ? v : u, plane1.Slice(cy * stride1, 2 * chromaWidth));
                        break;
                    default:
                        RgbToYuvKernels.Chroma(top, top, u, v, c);
                        RgbToYuvKernels.Luma(top, luma[..width], c);
                        luma[^1] = luma[width - 1]; // an odd width's last pair repeats its Y (that pixel does not exist)
                        ChromaInterleave.MergeYuyv(luma, u, v, plane0.Slice(cy * stride0, 4 * chromaWidth));
                        break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Where a packed frame's planes lie, and their row strides (a plane the layout lacks: empty, stride 0).</summary>
    private static (Range P0, int S0, Range P1, int S1, Range P2, int S2) PackedPlanes(YuvLayout layout, int width, int height)
    {
        int chromaWidth = (width + 1) / 2, lumaBytes = width * height, chromaPlane = chromaWidth * ((height + 1) / 2);
        return layout switch
        {
            YuvLayout.I420 => (..lumaBytes, width, lumaBytes..(lumaBytes + chromaPlane), chromaWidth,
                (lumaBytes + chromaPlane)..(lumaBytes + (2 * chromaPlane)), chromaWidth),
            YuvLayout.Nv12 or YuvLayout.Nv21 => (..lumaBytes, width, lumaBytes..(lumaBytes + (2 * chromaPlane)), 2 * chromaWidth, default, 0),
            _ => (.., 4 * chromaWidth, default, 0, default, 0),
        };
    }

    /// <summary>Checks the planes a layout has against its rows (both directions, strided); an undefined layout is refused.</summary>
    private static void CheckPlanes(YuvLayout layout, int width, int height, ReadOnlySpan<byte> plane0, int stride0,
        ReadOnlySpan<byte> plane1, int stride1, ReadOnlySpan<byte> plane2, int stride2)
    {
        int chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2;
        switch (layout)
        {
            case YuvLayout.I420:
                CheckPlane(plane0, stride0, height, width, "Y", nameof(plane0));
                CheckPlane(plane1, stride1, chromaHeight, chromaWidth, "U", nameof(plane1));
                CheckPlane(plane2, stride2, chromaHeight, chromaWidth, "V", nameof(plane2));
                break;
            case YuvLayout.Nv12 or YuvLayout.Nv21:
                CheckPlane(plane0, stride0, height, width, "Y", nameof(plane0));
                CheckPlane(plane1, stride1, chromaHeight, 2 * chromaWidth, layout == YuvLayout.Nv12 ? "UV" : "VU", nameof(plane1));
                break;
            case YuvLayout.Yuyv:
                CheckPlane(plane0, stride0, height, 4 * chromaWidth, "YUYV", nameof(plane0));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, "Not a YUV layout.");
        }
    }

    private static void CheckFrame(int length, YuvLayout layout, int width, int height, string name)
    {
        int size = FrameSize(layout, width, height);
        if (length < size)
        {
            throw new ArgumentException($"A {width}x{height} {layout} frame is {size} bytes; got {length}.", name);
        }
    }

    private static void CheckPlane(ReadOnlySpan<byte> plane, int stride, int rows, int rowBytes, string name, string paramName)
    {
        if (stride < rowBytes)
        {
            throw new ArgumentException($"The {name} plane's stride {stride} is shorter than its row of {rowBytes} bytes.", paramName);
        }

        long needed = ((long)(rows - 1) * stride) + rowBytes;
        if (plane.Length < needed)
        {
            throw new ArgumentException($"The {name} plane has {plane.Length} bytes; {rows} rows of stride {stride} need {needed}.", paramName);
        }
    }
}
