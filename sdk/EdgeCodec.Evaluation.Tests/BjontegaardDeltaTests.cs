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
}
