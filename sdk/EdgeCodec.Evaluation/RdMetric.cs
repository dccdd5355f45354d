namespace EdgeCodec.Evaluation;

/// <summary>The quality axis a Bjontegaard delta is computed on.</summary>
public enum RdMetric
{
    /// <summary><see cref="RdPoint.Psnr"/>, in dB.</summary>
    Psnr,

    /// <summary><see cref="RdPoint.MsSsimDb"/>: MS-SSIM as <c>-10 * log10(1 - MS-SSIM)</c>, in dB.</summary>
    MsSsimDb,
}
