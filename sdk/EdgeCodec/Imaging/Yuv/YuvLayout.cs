namespace EdgeCodec.Imaging;

/// <summary>How a YUV frame's samples are laid out in memory (the FourCC names of V4L2, libyuv and Android).</summary>
/// <remarks>
/// Chroma is subsampled by two horizontally (all layouts) and vertically (all but <see cref="Yuyv"/>); odd widths and
/// heights round the chroma planes up. Planes are listed in the order they follow each other in a packed frame.
/// </remarks>
public enum YuvLayout
{
    /// <summary>4:2:0, three planes: Y, then U (Cb), then V (Cr), each chroma plane half the width and height ("YU12").</summary>
    I420 = 0,

    /// <summary>4:2:0, two planes: Y, then interleaved U, V pairs at half the height (most camera ISPs and video decoders).</summary>
    Nv12 = 1,

    /// <summary>4:2:0, two planes: Y, then interleaved V, U pairs at half the height (Android camera frames).</summary>
    Nv21 = 2,

    /// <summary>4:2:2, one plane: Y0 U Y1 V for each pair of pixels ("YUY2", USB webcams).</summary>
    Yuyv = 3,
}
