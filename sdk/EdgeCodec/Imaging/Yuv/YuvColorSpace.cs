namespace EdgeCodec.Imaging;

/// <summary>How a YUV (Y′CbCr) frame's samples map to RGB: the matrix of the standard and the range of the samples.</summary>
/// <remarks>
/// Cameras and players name it in their formats: V4L2's <c>V4L2_YCBCR_ENC_601</c> / <c>709</c> with
/// <c>V4L2_QUANTIZATION_LIM_RANGE</c> / <c>FULL_RANGE</c>, libcamera's <c>Rec709</c> (limited) and <c>Jpeg</c> / <c>sYCC</c>
/// (BT.601, full), Android's <c>NV21</c> camera frames (BT.601, full). Standard-definition video is BT.601 limited,
/// high-definition video BT.709 limited.
/// </remarks>
public enum YuvColorSpace
{
    /// <summary>ITU-R BT.601 matrix, limited ("studio", "TV") range: Y in 16..235, Cb and Cr in 16..240.</summary>
    Bt601Limited = 0,

    /// <summary>ITU-R BT.601 matrix, full range: Y, Cb and Cr in 0..255 (JPEG/JFIF).</summary>
    Bt601Full = 1,

    /// <summary>ITU-R BT.709 matrix, limited range: Y in 16..235, Cb and Cr in 16..240 (HD video).</summary>
    Bt709Limited = 2,

    /// <summary>ITU-R BT.709 matrix, full range: Y, Cb and Cr in 0..255.</summary>
    Bt709Full = 3,
}
