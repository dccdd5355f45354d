namespace EdgeCodec.Evaluation;

/// <summary>A codec's rate-distortion curve averaged over all images, one point per quality level.</summary>
/// <param name="Codec">The codec's <see cref="IRdCodec.Name"/>.</param>
/// <param name="Points">Points in quality-level order.</param>
public sealed record RdCurve(string Codec, IReadOnlyList<RdCurvePoint> Points)
{
    /// <summary>The points as <see cref="RdPoint"/>s, for <see cref="BjontegaardDelta"/>.</summary>
    public IReadOnlyList<RdPoint> ToPoints() => Points.Select(p => new RdPoint(p.Bpp, p.Psnr, p.MsSsim)).ToArray();
}
