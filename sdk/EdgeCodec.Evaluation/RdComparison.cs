namespace EdgeCodec.Evaluation;

/// <summary>Bjontegaard deltas of the test codec against one anchor codec.</summary>
/// <remarks>A value is null where the delta is undefined (curves do not overlap, too few distinct points).</remarks>
/// <param name="Anchor">Anchor codec name.</param>
/// <param name="Test">Test codec name.</param>
/// <param name="BdRate">BD-rate on PSNR between the average curves, in percent (negative = test saves bits).</param>
/// <param name="BdPsnr">BD-PSNR between the average curves, in dB (positive = test is better).</param>
/// <param name="BdRateMsSsim">BD-rate on MS-SSIM (dB form) between the average curves, in percent.</param>
/// <param name="BdRatePerImageMean">Mean over images of the per-image BD-rate on PSNR, in percent.</param>
/// <param name="PerImageCount">Number of images whose per-image BD-rate was defined.</param>
public sealed record RdComparison(
    string Anchor,
    string Test,
    double? BdRate,
    double? BdPsnr,
    double? BdRateMsSsim,
    double? BdRatePerImageMean,
    int PerImageCount);
