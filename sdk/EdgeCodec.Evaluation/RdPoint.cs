namespace EdgeCodec.Evaluation;

/// <summary>One operating point of a codec on a rate-distortion curve.</summary>
/// <param name="BitsPerPixel">Rate: encoded bits per pixel (file bytes * 8 / (width * height)); must be positive.</param>
/// <param name="Psnr">RGB PSNR in dB.</param>
/// <param name="MsSsim">MS-SSIM in [0, 1].</param>
public readonly record struct RdPoint(double BitsPerPixel, double Psnr, double MsSsim)
{
    /// <summary>MS-SSIM in decibels, <c>-10 * log10(1 - MsSsim)</c>, capped at 100 dB for MS-SSIM = 1.</summary>
    public double MsSsimDb => MsSsimToDb(MsSsim);

    internal static double MsSsimToDb(double msSsim) =>
        msSsim >= 1.0 ? RdMeasurement.MaxDecibels : Math.Min(-10.0 * Math.Log10(1.0 - msSsim), RdMeasurement.MaxDecibels);
}
