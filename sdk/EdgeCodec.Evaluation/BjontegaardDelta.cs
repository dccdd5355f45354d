namespace EdgeCodec.Evaluation;

/// <summary>Bjontegaard delta rate and delta quality between two rate-distortion curves (VCEG-M33).</summary>
/// <remarks>
/// <para>BD-rate: for each curve, log10(bits per pixel) is fitted as a cubic polynomial of quality by least
/// squares; both fits are integrated over the quality interval the two curves share
/// ([max of the minima, min of the maxima]); the mean difference <c>d</c> (test minus anchor) gives
/// <c>(10^d - 1) * 100</c> percent. Negative means the test codec needs fewer bits for the same quality.</para>
/// <para>BD-PSNR (BD-quality): quality is fitted as a cubic of log10(bits per pixel), integrated over the shared
/// log-rate interval, and the mean difference is returned in dB. Positive means the test codec is better.</para>
/// <para>Each curve needs at least 4 points with at least 4 distinct values on the fitted axis, positive
/// finite rates and finite quality. The curves must overlap on the integration axis with non-zero width;
/// otherwise the delta is undefined: the throwing methods raise <see cref="ArgumentException"/>, the
/// <c>Try</c> methods return <see langword="false"/>. Points need not be sorted.</para>
/// <para>The windowed <see cref="TryBdRate(IReadOnlyList{RdPoint}, IReadOnlyList{RdPoint}, RdMetric, BdInterpolation, double, double, out double, out double, out double)"/>
/// can read the curves through a piecewise interpolant instead of the cubic (<see cref="BdInterpolation"/>): dense
/// ladders are where the two disagree, and a figure that holds under both is one to quote.</para>
/// </remarks>
public static class BjontegaardDelta
{
    /// <summary>Smallest number of points per curve (a cubic has four coefficients).</summary>
    public const int MinPoints = 4;

    /// <summary>BD-rate of <paramref name="test"/> against <paramref name="anchor"/>, in percent.</summary>
    /// <param name="anchor">Reference curve.</param>
    /// <param name="test">Curve under test.</param>
    /// <param name="metric">Quality axis; PSNR by default.</param>
    /// <returns>Average bit-rate difference at equal quality, in percent (e.g. -20 = 20 % fewer bits).</returns>
    /// <exception cref="ArgumentNullException">A curve is null.</exception>
    /// <exception cref="ArgumentException">A curve has fewer than <see cref="MinPoints"/> usable points,
    /// a non-positive or non-finite rate, non-finite quality, or the curves do not overlap.</exception>
    public static double BdRate(IReadOnlyList<RdPoint> anchor, IReadOnlyList<RdPoint> test, RdMetric metric = RdMetric.Psnr) =>
        Compute(anchor, test, metric, rate: true, out double value, out _, out _) is { } error ? throw new ArgumentException(error) : value;

    /// <summary>BD-rate that reports an undefined result instead of throwing.</summary>
    /// <param name="anchor">Reference curve.</param>
    /// <param name="test">Curve under test.</param>
    /// <param name="metric">Quality axis.</param>
    /// <param name="percent">The BD-rate in percent, or <see cref="double.NaN"/> when undefined.</param>
    /// <returns><see langword="false"/> when <see cref="BdRate"/> would throw <see cref="ArgumentException"/>.</returns>
    /// <exception cref="ArgumentNullException">A curve is null.</exception>
    public static bool TryBdRate(IReadOnlyList<RdPoint> anchor, IReadOnlyList<RdPoint> test, RdMetric metric, out double percent) =>
        Compute(anchor, test, metric, rate: true, out percent, out _, out _) is null;

    /// <summary>
    /// BD-rate over part of the shared quality interval only: [max(shared minimum, <paramref name="from"/>),
    /// min(shared maximum, <paramref name="to"/>)]. Comparing two models over the same window keeps a change of
    /// operating range (for example new low-rate levels) from passing as a change of efficiency.
    /// </summary>
    /// <param name="anchor">Reference curve.</param>
    /// <param name="test">Curve under test.</param>
    /// <param name="metric">Quality axis.</param>
    /// <param name="from">Lower end of the window (dB of <paramref name="metric"/>).</param>
    /// <param name="to">Upper end of the window.</param>
    /// <param name="percent">The BD-rate in percent, or NaN.</param>
    /// <param name="low">Where the integration started (the clipped window), or NaN when the curves leave no overlap.</param>
    /// <param name="high">Where the integration ended, or NaN.</param>
    /// <returns>False when the delta is undefined, including when the window leaves no overlap.</returns>
    public static bool TryBdRate(
        IReadOnlyList<RdPoint> anchor, IReadOnlyList<RdPoint> test, RdMetric metric, double from, double to, out double percent, out double low, out double high) =>
        Compute(anchor, test, metric, rate: true, out percent, out low, out high, from, to) is null;

    /// <summary>
    /// BD-rate over a PSNR window, with each curve read through <paramref name="interpolation"/> instead of the classic
    /// least-squares cubic. With <see cref="BdInterpolation.Pchip"/> or <see cref="BdInterpolation.Linear"/> the curves
    /// still need <see cref="MinPoints"/> points each, and points that share a quality are merged at their mean rate.
    /// </summary>
    /// <param name="anchor">Reference curve.</param>
    /// <param name="test">Curve under test.</param>
    /// <param name="metric">Quality axis.</param>
    /// <param name="interpolation">How each curve's log-rate is read between its points.</param>
    /// <param name="from">Lower end of the window (dB of <paramref name="metric"/>); negative infinity for none.</param>
    /// <param name="to">Upper end of the window; positive infinity for none.</param>
    /// <param name="percent">The BD-rate in percent, or NaN.</param>
    /// <param name="low">Where the integration started (the clipped window), or NaN when the curves leave no overlap.</param>
    /// <param name="high">Where the integration ended, or NaN.</param>
    /// <returns>False when the delta is undefined, including when the window leaves no overlap.</returns>
    /// <exception cref="ArgumentNullException">A curve is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interpolation"/> is not a defined value.</exception>
    public static bool TryBdRate(
        IReadOnlyList<RdPoint> anchor,
        IReadOnlyList<RdPoint> test,
        RdMetric metric,
        BdInterpolation interpolation,
        double from,
        double to,
        out double percent,
        out double low,
        out double high) =>
        Compute(anchor, test, metric, rate: true, out percent, out low, out high, from, to, interpolation) is null;

    /// <summary>BD-PSNR (or BD-quality for <see cref="RdMetric.MsSsimDb"/>) of <paramref name="test"/> against <paramref name="anchor"/>, in dB.</summary>
    /// <param name="anchor">Reference curve.</param>
    /// <param name="test">Curve under test.</param>
    /// <param name="metric">Quality axis; PSNR by default.</param>
    /// <returns>Average quality difference at equal rate, in dB (positive = test is better).</returns>
    /// <exception cref="ArgumentNullException">A curve is null.</exception>
    /// <exception cref="ArgumentException">A curve has fewer than <see cref="MinPoints"/> usable points,
    /// a non-positive or non-finite rate, non-finite quality, or the curves do not overlap.</exception>
    public static double BdPsnr(IReadOnlyList<RdPoint> anchor, IReadOnlyList<RdPoint> test, RdMetric metric = RdMetric.Psnr) =>
        Compute(anchor, test, metric, rate: false, out double value, out _, out _) is { } error ? throw new ArgumentException(error) : value;

    /// <summary>BD-PSNR that reports an undefined result instead of throwing.</summary>
    /// <param name="anchor">Reference curve.</param>
    /// <param name="test">Curve under test.</param>
    /// <param name="metric">Quality axis.</param>
    /// <param name="decibels">The BD-PSNR in dB, or <see cref="double.NaN"/> when undefined.</param>
    /// <returns><see langword="false"/> when <see cref="BdPsnr"/> would throw <see cref="ArgumentException"/>.</returns>
    /// <exception cref="ArgumentNullException">A curve is null.</exception>
    public static bool TryBdPsnr(IReadOnlyList<RdPoint> anchor, IReadOnlyList<RdPoint> test, RdMetric metric, out double decibels) =>
        Compute(anchor, test, metric, rate: false, out decibels, out _, out _) is null;

    /// <returns>Null on success, otherwise why the delta is undefined.</returns>
    private static string? Compute(
        IReadOnlyList<RdPoint> anchor,
        IReadOnlyList<RdPoint> test,
        RdMetric metric,
        bool rate,
        out double value,
        out double low,
        out double high,
        double from = double.NegativeInfinity,
        double to = double.PositiveInfinity,
        BdInterpolation interpolation = BdInterpolation.Cubic)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(test);
        if (!Enum.IsDefined(interpolation))
        {
            throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "Not a defined interpolation.");
        }

        value = low = high = double.NaN;
        if (Axes(anchor, metric, "anchor", out double[] anchorLogRate, out double[] anchorQuality) is { } e1)
        {
            return e1;
        }

        if (Axes(test, metric, "test", out double[] testLogRate, out double[] testQuality) is { } e2)
        {
            return e2;
        }

        // BD-rate integrates log-rate over quality; BD-PSNR integrates quality over log-rate.
        (double[] ax, double[] ay, double[] tx, double[] ty) = rate
            ? (anchorQuality, anchorLogRate, testQuality, testLogRate)
            : (anchorLogRate, anchorQuality, testLogRate, testQuality);

        if (double.IsNaN(from) || double.IsNaN(to))
        {
            return "The window is not a number.";
        }

        double lo = Math.Max(Math.Max(ax.Min(), tx.Min()), from);
        double hi = Math.Min(Math.Min(ax.Max(), tx.Max()), to);
        if (!(hi > lo))
        {
            return $"The curves do not overlap on the {(rate ? metric.ToString() : "log-rate")} axis.";
        }

        (low, high) = (lo, hi);

        double diff;
        if (interpolation == BdInterpolation.Cubic)
        {
            if (!CubicFit.TryFit(ax, ay, out CubicFit? anchorFit) || !CubicFit.TryFit(tx, ty, out CubicFit? testFit))
            {
                return $"A curve has fewer than {MinPoints} distinct values on the fitted axis.";
            }

            diff = testFit!.MeanOver(lo, hi) - anchorFit!.MeanOver(lo, hi);
        }
        else
        {
            bool linear = interpolation == BdInterpolation.Linear;
            if (!PiecewiseCurve.TryCreate(ax, ay, linear, MinPoints, out PiecewiseCurve? anchorCurve)
                || !PiecewiseCurve.TryCreate(tx, ty, linear, MinPoints, out PiecewiseCurve? testCurve))
            {
                return $"A curve has fewer than {MinPoints} distinct values on the interpolated axis.";
            }

            diff = testCurve!.MeanOver(lo, hi) - anchorCurve!.MeanOver(lo, hi);
        }

        value = rate ? (Math.Pow(10, diff) - 1) * 100 : diff;
        return null;
    }

    private static string? Axes(IReadOnlyList<RdPoint> curve, RdMetric metric, string name, out double[] logRate, out double[] quality)
    {
        logRate = new double[curve.Count];
        quality = new double[curve.Count];
        if (curve.Count < MinPoints)
        {
            return $"The {name} curve has {curve.Count} points; at least {MinPoints} are needed.";
        }

        for (int i = 0; i < curve.Count; i++)
        {
            RdPoint p = curve[i];
            if (!(p.BitsPerPixel > 0) || !double.IsFinite(p.BitsPerPixel))
            {
                return $"The {name} curve has a non-positive or non-finite rate ({p.BitsPerPixel}).";
            }

            logRate[i] = Math.Log10(p.BitsPerPixel);
            quality[i] = metric == RdMetric.Psnr ? p.Psnr : p.MsSsimDb;
            if (!double.IsFinite(quality[i]))
            {
                return $"The {name} curve has a non-finite quality value ({quality[i]}).";
            }
        }

        return null;
    }
}
