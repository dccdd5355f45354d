using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>Full-reference distortion metrics between an original and a reconstruction.</summary>
/// <remarks>See <c>docs/evaluation.md</c> for the exact definitions and the reference implementations they match.</remarks>
public static class Metrics
{
    /// <summary>
    /// Smallest width and height <see cref="MsSsim"/> accepts (161): the 11-tap window must still fit after
    /// four 2x downsamplings, the same limit pytorch_msssim enforces.
    /// </summary>
    public const int MsSsimMinDimension = 161;

    /// <summary>Peak signal-to-noise ratio over all R, G and B samples with peak 255, in dB.</summary>
    /// <param name="reference">The original image.</param>
    /// <param name="distorted">The reconstruction, same size as <paramref name="reference"/>.</param>
    /// <returns>
    /// <c>10 * log10(255^2 / MSE)</c> where MSE is the mean squared difference over all
    /// <c>3 * width * height</c> samples; <see cref="double.PositiveInfinity"/> when the images are identical
    /// (the evaluation harness caps that at 100 dB).
    /// </returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The images differ in size.</exception>
    public static double Psnr(RgbImage reference, RgbImage distorted)
    {
        CheckPair(reference, distorted);
        ReadOnlySpan<byte> a = reference.Pixels;
        ReadOnlySpan<byte> b = distorted.Pixels;
        long sse = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = a[i] - b[i];
            sse += d * d;
        }

        if (sse == 0)
        {
            return double.PositiveInfinity;
        }

        double mse = (double)sse / a.Length;
        return 10.0 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>Multi-scale SSIM (Wang, Simoncelli and Bovik 2003) as computed by pytorch_msssim and CompressAI.</summary>
    /// <param name="reference">The original image.</param>
    /// <param name="distorted">The reconstruction, same size as <paramref name="reference"/>.</param>
    /// <returns>
    /// A value in [0, 1], 1 for identical images: the mean over R, G and B of the per-channel MS-SSIM, each
    /// computed on [0, 255] samples with data range 255, an 11-tap Gaussian window (sigma 1.5) applied as a
    /// 'valid' separable filter, K1 = 0.01, K2 = 0.03, five scales weighted 0.0448, 0.2856, 0.3001, 0.2363,
    /// 0.1333, and 2x2 average pooling between scales (odd sizes zero-padded by one, as
    /// <c>avg_pool2d(padding = size % 2)</c> does).
    /// </returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The images differ in size, or a side is smaller than
    /// <see cref="MsSsimMinDimension"/>.</exception>
    public static double MsSsim(RgbImage reference, RgbImage distorted)
    {
        CheckPair(reference, distorted);
        if (reference.Width < MsSsimMinDimension || reference.Height < MsSsimMinDimension)
        {
            throw new ArgumentException(
                $"MS-SSIM needs both sides >= {MsSsimMinDimension}; got {reference.Width}x{reference.Height}.", nameof(reference));
        }

        return MultiScaleSsim.Compute(reference, distorted);
    }

    private static void CheckPair(RgbImage reference, RgbImage distorted)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(distorted);
        if (reference.Width != distorted.Width || reference.Height != distorted.Height)
        {
            throw new ArgumentException(
                $"Images differ in size: {reference.Width}x{reference.Height} vs {distorted.Width}x{distorted.Height}.", nameof(distorted));
        }
    }
}
