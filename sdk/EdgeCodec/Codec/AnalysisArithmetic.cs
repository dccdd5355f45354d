namespace EdgeCodec.Codec;

/// <summary>
/// The arithmetic of the encoder's analysis transform <c>g_a</c>. The analysis is never seen by a decoder (its output
/// is quantised to integers, and the integer entropy path runs from there), so this choice moves rate and
/// distortion a little, never whether or how a stream decodes.
/// </summary>
public enum AnalysisArithmetic
{
    /// <summary>The fp32 analysis (<see cref="Models.ModelPack.AnalysisEntry"/>): the best rate-distortion. Every pack has it.</summary>
    Float32 = 0,

    /// <summary>
    /// The int8 analysis (<see cref="Models.ModelPack.AnalysisInt8Entry"/>, a QDQ graph ONNX Runtime runs as
    /// <c>QLinearConv</c>): the convs at 1/4 and 1/8 resolution, 31 of the encoder's 36 kMAC/pixel, in int8. For cameras:
    /// ~1.8× the fp32 analysis' speed on one core for +0.54 % BD-rate on Kodak (docs/benchmarks.md, "The int8 analysis").
    /// Packs exported since session 41 have it.
    /// </summary>
    Int8 = 1,
}
