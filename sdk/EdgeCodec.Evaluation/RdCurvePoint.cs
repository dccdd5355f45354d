namespace EdgeCodec.Evaluation;

/// <summary>One quality level of an <see cref="RdCurve"/>: arithmetic means over the images.</summary>
/// <param name="Quality">The quality level.</param>
/// <param name="Bpp">Mean bits per pixel.</param>
/// <param name="Psnr">Mean of the per-image PSNR values (each capped at <see cref="RdMeasurement.MaxDecibels"/>).</param>
/// <param name="MsSsim">Mean of the per-image MS-SSIM values.</param>
/// <param name="MsSsimDb"><c>-10 * log10(1 - MsSsim)</c> of the mean MS-SSIM.</param>
public sealed record RdCurvePoint(int Quality, double Bpp, double Psnr, double MsSsim, double MsSsimDb);
