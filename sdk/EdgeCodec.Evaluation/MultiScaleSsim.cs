using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>The MS-SSIM kernel behind <see cref="Metrics.MsSsim"/>; inputs are already validated.</summary>
/// <remarks>
/// A line-by-line port of pytorch_msssim 1.0 (<c>_ssim</c> + <c>ms_ssim</c>), in double precision instead of
/// float32. <c>sdk/EdgeCodec.Evaluation.Tests/reference/msssim_reference.py</c> is the same algorithm in numpy and produces the
/// golden value the tests check against.
/// </remarks>
internal static class MultiScaleSsim
{
    private const int WindowSize = 11;
    private const double C1 = (0.01 * 255) * (0.01 * 255);
    private const double C2 = (0.03 * 255) * (0.03 * 255);

    private static readonly double[] ScaleWeights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
    private static readonly double[] Window = Gaussian(WindowSize, 1.5);

    public static double Compute(RgbImage a, RgbImage b)
    {
        var perChannel = new double[3];
        Parallel.For(0, 3, c => perChannel[c] = Channel(Plane(a, c), Plane(b, c), a.Width, a.Height));
        return (perChannel[0] + perChannel[1] + perChannel[2]) / 3.0;
    }

    private static double Channel(double[] x, double[] y, int width, int height)
    {
        double product = 1.0;
        for (int level = 0; level < ScaleWeights.Length; level++)
        {
            (double ssim, double cs) = Ssim(x, y, width, height);
            if (level < ScaleWeights.Length - 1)
            {
                // relu before the fractional power, as pytorch_msssim does: a negative contrast-structure
                // term would otherwise make the power undefined.
                product *= Math.Pow(Math.Max(cs, 0.0), ScaleWeights[level]);
                (x, int w2, int h2) = Pool(x, width, height);
                (y, _, _) = Pool(y, width, height);
                (width, height) = (w2, h2);
            }
            else
            {
                product *= Math.Pow(Math.Max(ssim, 0.0), ScaleWeights[level]);
            }
        }

        return product;
    }

    /// <summary>Mean SSIM and mean contrast-structure term over the 'valid' window positions.</summary>
    private static (double Ssim, double Cs) Ssim(double[] x, double[] y, int width, int height)
    {
        int ow = width - WindowSize + 1;
        int oh = height - WindowSize + 1;
        double[] g = Window;

        // Horizontal pass for all five moments at once: E[x], E[y], E[x^2], E[y^2], E[xy].
        var hx = new double[height * ow];
        var hy = new double[height * ow];
        var hxx = new double[height * ow];
        var hyy = new double[height * ow];
        var hxy = new double[height * ow];
        for (int r = 0; r < height; r++)
        {
            int rowIn = r * width;
            int rowOut = r * ow;
            for (int c = 0; c < ow; c++)
            {
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                int i = rowIn + c;
                for (int k = 0; k < WindowSize; k++)
                {
                    double xv = x[i + k];
                    double yv = y[i + k];
                    double gk = g[k];
                    sx += gk * xv;
                    sy += gk * yv;
                    sxx += gk * xv * xv;
                    syy += gk * yv * yv;
                    sxy += gk * xv * yv;
                }

                hx[rowOut + c] = sx;
                hy[rowOut + c] = sy;
                hxx[rowOut + c] = sxx;
                hyy[rowOut + c] = syy;
                hxy[rowOut + c] = sxy;
            }
        }

        // Vertical pass row by row, accumulating whole rows so the inner loops stay sequential in memory.
        var mx = new double[ow];
        var my = new double[ow];
        var mxx = new double[ow];
        var myy = new double[ow];
        var mxy = new double[ow];
        double ssimSum = 0;
        double csSum = 0;
        for (int r = 0; r < oh; r++)
        {
            Array.Clear(mx);
            Array.Clear(my);
            Array.Clear(mxx);
            Array.Clear(myy);
            Array.Clear(mxy);
            for (int k = 0; k < WindowSize; k++)
            {
                double gk = g[k];
                int row = (r + k) * ow;
                for (int c = 0; c < ow; c++)
                {
                    mx[c] += gk * hx[row + c];
                    my[c] += gk * hy[row + c];
                    mxx[c] += gk * hxx[row + c];
                    myy[c] += gk * hyy[row + c];
                    mxy[c] += gk * hxy[row + c];
                }
            }

            for (int c = 0; c < ow; c++)
            {
                double mu1 = mx[c];
                double mu2 = my[c];
                double sigma1 = mxx[c] - (mu1 * mu1);
                double sigma2 = myy[c] - (mu2 * mu2);
                double sigma12 = mxy[c] - (mu1 * mu2);
                double cs = ((2 * sigma12) + C2) / (sigma1 + sigma2 + C2);
                double luminance = ((2 * mu1 * mu2) + C1) / ((mu1 * mu1) + (mu2 * mu2) + C1);
                csSum += cs;
                ssimSum += luminance * cs;
            }
        }

        double n = (double)ow * oh;
        return (ssimSum / n, csSum / n);
    }

    /// <summary>
    /// 2x2 average pooling matching <c>avg_pool2d(kernel_size=2, padding=size % 2)</c> with its default
    /// <c>count_include_pad=True</c>: an odd side gets one zero row/column in front, and every window divides by 4.
    /// </summary>
    private static (double[] Pooled, int Width, int Height) Pool(double[] src, int width, int height)
    {
        int padX = width % 2;
        int padY = height % 2;
        int ow = (width + padX) / 2;
        int oh = (height + padY) / 2;
        var dst = new double[ow * oh];
        for (int r = 0; r < oh; r++)
        {
            int y0 = (2 * r) - padY;
            for (int c = 0; c < ow; c++)
            {
                int x0 = (2 * c) - padX;
                double sum = 0;
                for (int dy = 0; dy < 2; dy++)
                {
                    int yy = y0 + dy;
                    if (yy < 0)
                    {
                        continue;
                    }

                    for (int dx = 0; dx < 2; dx++)
                    {
                        int xx = x0 + dx;
                        if (xx >= 0)
                        {
                            sum += src[(yy * width) + xx];
                        }
                    }
                }

                dst[(r * ow) + c] = sum * 0.25;
            }
        }

        return (dst, ow, oh);
    }

    private static double[] Plane(RgbImage image, int channel)
    {
        byte[] pixels = image.Pixels;
        var plane = new double[image.PixelCount];
        for (int i = 0, s = channel; i < plane.Length; i++, s += 3)
        {
            plane[i] = pixels[s];
        }

        return plane;
    }

    private static double[] Gaussian(int size, double sigma)
    {
        var g = new double[size];
        double sum = 0;
        for (int i = 0; i < size; i++)
        {
            double d = i - (size / 2);
            g[i] = Math.Exp(-(d * d) / (2 * sigma * sigma));
            sum += g[i];
        }

        for (int i = 0; i < size; i++)
        {
            g[i] /= sum;
        }

        return g;
    }
}
