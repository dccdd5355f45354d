namespace EdgeCodec.Evaluation;

/// <summary>How a Bjontegaard delta turns each curve's points into a function it can integrate.</summary>
/// <remarks>
/// The classic cubic (VCEG-M33) suits four or five smooth points per curve. A dense, slightly wavy curve (a quality
/// ladder with a dozen settings, a codec swept in steps of 5) is better read by an interpolant through its points:
/// a least-squares cubic smooths over the waves and can bend away from the data near the ends of the shared range.
/// The piecewise cubic Hermite interpolant is the one later common test conditions moved to; the linear one is a
/// plain cross-check that assumes nothing between the points.
/// </remarks>
public enum BdInterpolation
{
    /// <summary>A least-squares cubic polynomial per curve (VCEG-M33); needs four distinct points.</summary>
    Cubic,

    /// <summary>
    /// A piecewise cubic Hermite interpolant through the points (Fritsch–Carlson slopes, monotone wherever the data
    /// is), integrated exactly.
    /// </summary>
    Pchip,

    /// <summary>Straight lines between consecutive points, integrated exactly.</summary>
    Linear,
}
