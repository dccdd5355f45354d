namespace EdgeCodec.Evaluation;

/// <summary>
/// A curve through points, either piecewise linear or piecewise cubic Hermite with Fritsch–Carlson slopes
/// (the shape-preserving "pchip"), and its exact mean over an interval inside the points' span.
/// </summary>
/// <remarks>
/// Points are sorted by x; points that share an x are merged into one at the mean of their y. On each interval the
/// curve is a cubic (or a line), so Simpson's rule on any sub-interval integrates it exactly.
/// </remarks>
internal sealed class PiecewiseCurve
{
    private readonly double[] _x;
    private readonly double[] _y;
    private readonly double[]? _slope; // dy/dx at each knot of the Hermite curve; null: piecewise linear

    private PiecewiseCurve(double[] x, double[] y, double[]? slope)
    {
        _x = x;
        _y = y;
        _slope = slope;
    }

    /// <summary>Builds the curve; false when the points have fewer than <paramref name="minDistinct"/> distinct x.</summary>
    public static bool TryCreate(ReadOnlySpan<double> x, ReadOnlySpan<double> y, bool linear, int minDistinct, out PiecewiseCurve? curve)
    {
        curve = null;
        int[] order = Enumerable.Range(0, x.Length).ToArray();
        double[] xs = x.ToArray();
        Array.Sort(xs, order);

        var knotsX = new List<double>(x.Length);
        var knotsY = new List<double>(x.Length);
        for (int i = 0; i < xs.Length;)
        {
            int j = i;
            double sum = 0;
            while (j < xs.Length && xs[j] == xs[i])
            {
                sum += y[order[j]];
                j++;
            }

            knotsX.Add(xs[i]);
            knotsY.Add(sum / (j - i));
            i = j;
        }

        if (knotsX.Count < Math.Max(2, minDistinct))
        {
            return false;
        }

        double[] kx = knotsX.ToArray(), ky = knotsY.ToArray();
        curve = new PiecewiseCurve(kx, ky, linear ? null : FritschCarlsonSlopes(kx, ky));
        return true;
    }

    /// <summary>Mean of the curve over [lo, hi], which must lie within the points' span (lo &lt; hi).</summary>
    public double MeanOver(double lo, double hi)
    {
        double integral = 0;
        for (int k = 0; k < _x.Length - 1; k++)
        {
            double a = Math.Max(lo, _x[k]), b = Math.Min(hi, _x[k + 1]);
            if (b > a)
            {
                integral += (b - a) / 6 * (Value(k, a) + (4 * Value(k, (a + b) / 2)) + Value(k, b));
            }
        }

        return integral / (hi - lo);
    }

    /// <summary>The curve at <paramref name="t"/> on interval k ([x_k, x_k+1]).</summary>
    private double Value(int k, double t)
    {
        double h = _x[k + 1] - _x[k];
        double s = (t - _x[k]) / h;
        if (_slope is null)
        {
            return _y[k] + (s * (_y[k + 1] - _y[k]));
        }

        double s2 = s * s, s3 = s2 * s;
        return (((2 * s3) - (3 * s2) + 1) * _y[k])
            + ((s3 - (2 * s2) + s) * h * _slope[k])
            + (((-2 * s3) + (3 * s2)) * _y[k + 1])
            + ((s3 - s2) * h * _slope[k + 1]);
    }

    /// <summary>
    /// Knot slopes of the shape-preserving interpolant: zero at a local extremum of the data, otherwise the weighted
    /// harmonic mean of the neighbouring secants; the ends use the one-sided three-point estimate, limited so that
    /// it keeps the sign of the end secant and does not exceed three times it where the data turns.
    /// </summary>
    private static double[] FritschCarlsonSlopes(double[] x, double[] y)
    {
        int n = x.Length;
        var h = new double[n - 1];
        var delta = new double[n - 1];
        for (int k = 0; k < n - 1; k++)
        {
            h[k] = x[k + 1] - x[k];
            delta[k] = (y[k + 1] - y[k]) / h[k];
        }

        var d = new double[n];
        if (n == 2)
        {
            d[0] = d[1] = delta[0];
            return d;
        }

        for (int k = 1; k < n - 1; k++)
        {
            if (Math.Sign(delta[k - 1]) * Math.Sign(delta[k]) <= 0)
            {
                d[k] = 0;
            }
            else
            {
                double w1 = (2 * h[k]) + h[k - 1], w2 = h[k] + (2 * h[k - 1]);
                d[k] = (w1 + w2) / ((w1 / delta[k - 1]) + (w2 / delta[k]));
            }
        }

        d[0] = EndSlope(h[0], h[1], delta[0], delta[1]);
        d[n - 1] = EndSlope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        return d;
    }

    private static double EndSlope(double h0, double h1, double delta0, double delta1)
    {
        double d = (((2 * h0) + h1) * delta0 - (h0 * delta1)) / (h0 + h1);
        if (Math.Sign(d) != Math.Sign(delta0))
        {
            return 0;
        }

        if (Math.Sign(delta0) != Math.Sign(delta1) && Math.Abs(d) > Math.Abs(3 * delta0))
        {
            return 3 * delta0;
        }

        return d;
    }
}
