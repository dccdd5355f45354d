namespace EdgeCodec.Evaluation.Tests;

public sealed class BjontegaardDeltaTests
{
    private static readonly RdPoint[] Anchor =
    [
        new(0.25, 27.1, 0.90),
        new(0.5, 30.2, 0.94),
        new(0.9, 32.9, 0.965),
        new(1.4, 35.0, 0.978),
        new(2.1, 37.3, 0.987),
    ];

    [Theory]
    [InlineData(0.8, -20.0)]
    [InlineData(0.5, -50.0)]
    [InlineData(1.25, 25.0)]
    public void Scaling_every_rate_gives_exactly_that_BD_rate(double factor, double expectedPercent)
    {
        RdPoint[] test = Anchor.Select(p => p with { BitsPerPixel = p.BitsPerPixel * factor }).ToArray();

        Assert.Equal(expectedPercent, BjontegaardDelta.BdRate(Anchor, test), 1e-9);
    }

    [Fact]
    public void A_window_integrates_only_its_part_of_the_shared_range()
    {
        // log10 rate differs by a + b * psnr: the cubic fits differ by exactly that line, so the BD-rate over
        // [lo, hi] is 10^(a + b * (lo + hi) / 2) - 1.
        const double a = 0.3, b = -0.02;
        RdPoint[] test = Anchor.Select(p => p with { BitsPerPixel = p.BitsPerPixel * Math.Pow(10, a + (b * p.Psnr)) }).ToArray();

        Assert.True(BjontegaardDelta.TryBdRate(Anchor, test, RdMetric.Psnr, 30, 35, out double windowed, out double lo, out double hi));
        Assert.Equal((Math.Pow(10, a + (b * 32.5)) - 1) * 100, windowed, 1e-9);
        Assert.Equal((30.0, 35.0), (lo, hi));
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, test, RdMetric.Psnr, 20, 50, out double wide, out double wideLo, out double wideHi)); // clipped to 27.1 .. 37.3
        Assert.Equal(BjontegaardDelta.BdRate(Anchor, test), wide, 1e-12);
        Assert.Equal((Math.Pow(10, a + (b * (27.1 + 37.3) / 2)) - 1) * 100, wide, 1e-9);
        Assert.Equal(27.1, wideLo, 1e-12);
        Assert.Equal(37.3, wideHi, 1e-12);
        Assert.False(BjontegaardDelta.TryBdRate(Anchor, test, RdMetric.Psnr, 38, 40, out double none, out double noneLo, out _)); // outside the curves
        Assert.True(double.IsNaN(none) && double.IsNaN(noneLo));
        Assert.False(BjontegaardDelta.TryBdRate(Anchor, test, RdMetric.Psnr, double.NaN, 40, out _, out _, out _));
    }

    [Fact]
    public void Identical_curves_have_zero_deltas()
    {
        Assert.Equal(0.0, BjontegaardDelta.BdRate(Anchor, Anchor), 1e-12);
        Assert.Equal(0.0, BjontegaardDelta.BdPsnr(Anchor, Anchor), 1e-12);
    }

    [Fact]
    public void Shifting_every_psnr_gives_exactly_that_BD_psnr()
    {
        RdPoint[] test = Anchor.Select(p => p with { Psnr = p.Psnr + 0.75 }).ToArray();

        Assert.Equal(0.75, BjontegaardDelta.BdPsnr(Anchor, test), 1e-9);
    }

    [Fact]
    public void Asymmetric_case_matches_numpy_polyfit()
    {
        // reference/bd_reference.py: different point counts and partially overlapping ranges.
        RdPoint[] anchor = Anchor.Reverse().ToArray(); // order must not matter
        RdPoint[] test =
        [
            new(0.2, 27.8, 0),
            new(0.38, 30.6, 0),
            new(0.7, 33.4, 0),
            new(1.1, 35.6, 0),
            new(1.6, 37.4, 0),
            new(2.4, 39.5, 0),
        ];

        Assert.Equal(-29.957173042568776, BjontegaardDelta.BdRate(anchor, test), 1e-9);
        Assert.Equal(1.665554040723968, BjontegaardDelta.BdPsnr(anchor, test), 1e-9);
    }

    [Fact]
    public void Fewer_than_four_points_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => BjontegaardDelta.BdRate(Anchor[..3], Anchor));
        Assert.Throws<ArgumentException>(() => BjontegaardDelta.BdPsnr(Anchor, Anchor[..3]));
        Assert.False(BjontegaardDelta.TryBdRate(Anchor[..3], Anchor, RdMetric.Psnr, out double value));
        Assert.True(double.IsNaN(value));
    }

    [Fact]
    public void Disjoint_quality_ranges_are_undefined()
    {
        RdPoint[] far = Anchor.Select(p => p with { Psnr = p.Psnr + 20 }).ToArray();

        Assert.Throws<ArgumentException>(() => BjontegaardDelta.BdRate(Anchor, far));
        Assert.False(BjontegaardDelta.TryBdRate(Anchor, far, RdMetric.Psnr, out _));
    }

    [Fact]
    public void Repeated_quality_values_that_leave_fewer_than_four_distinct_are_undefined()
    {
        RdPoint[] flat = [new(0.1, 30, 0), new(0.2, 30, 0), new(0.3, 31, 0), new(0.4, 32, 0)];

        Assert.False(BjontegaardDelta.TryBdRate(flat, Anchor, RdMetric.Psnr, out _));
    }

    [Fact]
    public void Non_positive_rates_are_rejected()
    {
        RdPoint[] bad = Anchor.Select((p, i) => i == 0 ? p with { BitsPerPixel = 0 } : p).ToArray();

        Assert.Throws<ArgumentException>(() => BjontegaardDelta.BdRate(Anchor, bad));
    }

    [Fact]
    public void MsSsim_axis_uses_the_decibel_form()
    {
        RdPoint[] test = Anchor.Select(p => p with { BitsPerPixel = p.BitsPerPixel * 0.8 }).ToArray();

        Assert.Equal(-20.0, BjontegaardDelta.BdRate(Anchor, test, RdMetric.MsSsimDb), 1e-9);
        Assert.Equal(10.0, new RdPoint(1, 30, 0.9).MsSsimDb, 12);
    }
    /// <summary>A dense ladder with uneven steps (given out of order), as a refined quality ladder looks.</summary>
    private static readonly RdPoint[] Ladder =
    [
        new(0.70, 32.2, 0), new(0.18, 26.4, 0), new(0.22, 27.6, 0), new(0.31, 28.1, 0), new(1.75, 36.0, 0),
        new(0.40, 29.9, 0), new(0.52, 30.4, 0), new(0.95, 33.1, 0), new(1.30, 35.3, 0),
    ];

    [Theory]
    [InlineData(BdInterpolation.Pchip, double.NegativeInfinity, double.PositiveInfinity, -7.5147218000250815)]
    [InlineData(BdInterpolation.Pchip, 28.0, 33.5, -5.48740097016357)]
    [InlineData(BdInterpolation.Linear, double.NegativeInfinity, double.PositiveInfinity, -7.147392183983714)]
    [InlineData(BdInterpolation.Linear, 28.0, 33.5, -5.732936890020257)]
    public void Piecewise_BD_rates_match_an_independent_implementation(BdInterpolation method, double from, double to, double expected)
    {
        // Expected values: reference/bd_reference.py (scipy 1.10 PchipInterpolator(...).integrate; numpy's trapezoid
        // of np.interp on 2e6 steps), log10(bpp) as a function of PSNR, shared range 27.1 .. 36.0 dB.
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, Ladder, RdMetric.Psnr, method, from, to, out double percent, out double lo, out double hi));

        Assert.Equal(expected, percent, 1e-8);
        Assert.Equal(double.IsInfinity(from) ? (27.1, 36.0) : (from, to), (lo, hi));
    }

    [Fact]
    public void A_dense_ladder_reads_differently_through_its_points_than_through_a_cubic()
    {
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, Ladder, RdMetric.Psnr, BdInterpolation.Cubic, 28, 33.5, out double cubic, out _, out _));
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, Ladder, RdMetric.Psnr, BdInterpolation.Pchip, 28, 33.5, out double pchip, out _, out _));
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, Ladder, RdMetric.Psnr, 28, 33.5, out double classic, out _, out _));

        Assert.Equal(classic, cubic, 1e-12); // the overload without a method is the cubic
        Assert.True(Math.Abs(cubic - pchip) > 0.1, $"cubic {cubic:F3} %, pchip {pchip:F3} %");
    }

    [Theory]
    [InlineData(BdInterpolation.Cubic)]
    [InlineData(BdInterpolation.Pchip)]
    [InlineData(BdInterpolation.Linear)]
    public void Every_interpolation_gives_exactly_the_rate_scale_and_a_line_in_log_rate(BdInterpolation method)
    {
        RdPoint[] scaled = Ladder.Select(p => p with { BitsPerPixel = p.BitsPerPixel * 0.7 }).ToArray();
        Assert.True(BjontegaardDelta.TryBdRate(Ladder, scaled, RdMetric.Psnr, method, double.NegativeInfinity, double.PositiveInfinity, out double percent, out _, out _));
        Assert.Equal(-30.0, percent, 1e-9);

        // Both curves lines in log-rate, sampled at different qualities: every method reproduces a line exactly.
        const double a = -3.0, b = 0.1, c = -2.8;
        RdPoint[] lineA = [.. new[] { 26.0, 28.5, 31.0, 33.0, 36.0 }.Select(q => new RdPoint(Math.Pow(10, a + (b * q)), q, 0))];
        RdPoint[] lineB = [.. new[] { 25.5, 27.0, 29.5, 30.0, 34.5, 35.0 }.Select(q => new RdPoint(Math.Pow(10, c + (b * q)), q, 0))];
        Assert.True(BjontegaardDelta.TryBdRate(lineA, lineB, RdMetric.Psnr, method, 27, 34, out double shifted, out _, out _));
        Assert.Equal((Math.Pow(10, c - a) - 1) * 100, shifted, 1e-9);
    }

    [Fact]
    public void Piecewise_curves_merge_repeated_qualities_and_need_four_distinct()
    {
        // Two points at 30 dB are one knot at their mean log-rate; with 31 and 32 that is three knots: undefined.
        RdPoint[] flat = [new(0.1, 30, 0), new(0.2, 30, 0), new(0.3, 31, 0), new(0.4, 32, 0)];
        Assert.False(BjontegaardDelta.TryBdRate(flat, Anchor, RdMetric.Psnr, BdInterpolation.Pchip, double.NegativeInfinity, double.PositiveInfinity, out double undefined, out _, out _));
        Assert.True(double.IsNaN(undefined));

        RdPoint[] repeated = [.. flat, new(0.6, 33, 0)];
        RdPoint[] merged = [new(Math.Sqrt(0.1 * 0.2), 30, 0), new(0.3, 31, 0), new(0.4, 32, 0), new(0.6, 33, 0)];
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, repeated, RdMetric.Psnr, BdInterpolation.Linear, double.NegativeInfinity, double.PositiveInfinity, out double r, out _, out _));
        Assert.True(BjontegaardDelta.TryBdRate(Anchor, merged, RdMetric.Psnr, BdInterpolation.Linear, double.NegativeInfinity, double.PositiveInfinity, out double m, out _, out _));
        Assert.Equal(m, r, 1e-9);
    }

    [Fact]
    public void An_undefined_interpolation_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BjontegaardDelta.TryBdRate(
            Anchor, Ladder, RdMetric.Psnr, (BdInterpolation)7, 28, 33, out _, out _, out _));
    }
}
