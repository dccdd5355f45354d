namespace EdgeCodec.Evaluation;

/// <summary>A least-squares cubic y = p(x) and its mean value over an interval.</summary>
/// <remarks>
/// x is centred and scaled to [-1, 1] before fitting and the fit is solved by modified Gram-Schmidt QR, not
/// normal equations: with raw PSNR values (~30..40) a cubic Vandermonde matrix has a condition number near
/// 1e8, which would cost the BD-rate digits the tests pin down.
/// </remarks>
internal sealed class CubicFit
{
    private readonly double[] _coefficients; // in u = (x - _centre) / _scale, lowest order first
    private readonly double _centre;
    private readonly double _scale;

    private CubicFit(double[] coefficients, double centre, double scale)
    {
        _coefficients = coefficients;
        _centre = centre;
        _scale = scale;
    }

    /// <summary>Fits a cubic; false when the points cannot determine one (fewer than 4 distinct x).</summary>
    public static bool TryFit(ReadOnlySpan<double> x, ReadOnlySpan<double> y, out CubicFit? fit)
    {
        fit = null;
        int n = x.Length;
        if (n < 4)
        {
            return false;
        }

        double min = double.MaxValue, max = double.MinValue;
        foreach (double v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        double centre = (min + max) / 2;
        double scale = (max - min) / 2;
        if (!(scale > 0))
        {
            return false;
        }

        // Columns of the Vandermonde matrix in u, orthogonalised in place (modified Gram-Schmidt).
        var q = new double[4][];
        for (int j = 0; j < 4; j++)
        {
            q[j] = new double[n];
            for (int i = 0; i < n; i++)
            {
                q[j][i] = Math.Pow((x[i] - centre) / scale, j);
            }
        }

        var r = new double[4, 4];
        for (int j = 0; j < 4; j++)
        {
            for (int k = 0; k < j; k++)
            {
                double dot = Dot(q[k], q[j]);
                r[k, j] = dot;
                for (int i = 0; i < n; i++)
                {
                    q[j][i] -= dot * q[k][i];
                }
            }

            double norm = Math.Sqrt(Dot(q[j], q[j]));
            if (norm < 1e-9 * Math.Sqrt(n))
            {
                return false; // fewer than 4 distinct abscissae: the cubic is not determined
            }

            r[j, j] = norm;
            for (int i = 0; i < n; i++)
            {
                q[j][i] /= norm;
            }
        }

        var rhs = new double[4];
        for (int j = 0; j < 4; j++)
        {
            double dot = 0;
            for (int i = 0; i < n; i++)
            {
                dot += q[j][i] * y[i];
            }

            rhs[j] = dot;
        }

        var c = new double[4];
        for (int j = 3; j >= 0; j--)
        {
            double s = rhs[j];
            for (int k = j + 1; k < 4; k++)
            {
                s -= r[j, k] * c[k];
            }

            c[j] = s / r[j, j];
        }

        fit = new CubicFit(c, centre, scale);
        return true;
    }

    /// <summary>Mean of the fitted cubic over [lo, hi] (lo &lt; hi).</summary>
    public double MeanOver(double lo, double hi)
    {
        double ulo = (lo - _centre) / _scale;
        double uhi = (hi - _centre) / _scale;
        return (Antiderivative(uhi) - Antiderivative(ulo)) / (uhi - ulo);
    }

    private double Antiderivative(double u)
    {
        double result = 0;
        for (int j = _coefficients.Length - 1; j >= 0; j--)
        {
            result = (result + (_coefficients[j] / (j + 1))) * u;
        }

        return result;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }
}
