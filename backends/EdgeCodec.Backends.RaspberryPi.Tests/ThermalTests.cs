namespace EdgeCodec.Backends.RaspberryPi.Tests;

public sealed class ThermalTests
{
    [Fact]
    public void Sensor_reads_every_zone_and_reports_the_hottest()
    {
        using var sys = new FakeSysfs().Zone(0, "cpu-thermal", 52.5).Zone(1, "rp1_adc", 61.25).Throttled("0x0");
        var s = new ThermalSensor(sys.Root).Read();
        Assert.Equal(61.25, s.MaxCelsius);
        Assert.Equal(2, s.Zones.Count);
        Assert.Contains(("rp1_adc", 61.25), s.Zones);
        Assert.Equal(ThrottleFlags.None, s.Throttling);
    }

    [Fact]
    public void Unreadable_zones_are_skipped_and_missing_sysfs_is_not_an_error()
    {
        using var sys = new FakeSysfs().Zone(0, "cpu-thermal", 48);
        File.WriteAllText(Path.Combine(sys.Root, "class", "thermal", "thermal_zone0", "temp"), "garbage");
        var s = new ThermalSensor(sys.Root).Read();
        Assert.Null(s.MaxCelsius);
        Assert.Null(s.Throttling);
        Assert.Null(new ThermalSensor("/nonexistent").Read().MaxCelsius);
    }

    [Theory]
    [InlineData("0x50005", ThrottleFlags.UnderVoltage | ThrottleFlags.Throttled | ThrottleFlags.UnderVoltageOccurred | ThrottleFlags.ThrottledOccurred, true)]
    [InlineData("throttled=0x80000", ThrottleFlags.SoftTemperatureLimitOccurred, false)]
    [InlineData("0x8", ThrottleFlags.SoftTemperatureLimit, true)]
    [InlineData("0x0", ThrottleFlags.None, false)]
    public void Firmware_flags_parse_from_sysfs_and_vcgencmd(string raw, ThrottleFlags expected, bool limitingNow)
    {
        Assert.True(ThrottleFlagsParser.TryParse(raw, out var flags));
        Assert.Equal(expected, flags);
        Assert.Equal(limitingNow, flags.IsLimitingNow());
    }

    [Theory]
    [InlineData("")]
    [InlineData("throttled=zz")]
    [InlineData(null)]
    public void Bad_flag_text_is_rejected(string? raw) => Assert.False(ThrottleFlagsParser.TryParse(raw, out _));

    private static ThermalSnapshot At(double c, ThrottleFlags flags = ThrottleFlags.None) => new(c, [("cpu", c)], flags);

    [Fact]
    public void Governor_reduces_before_the_soft_limit_and_restores_with_hysteresis()
    {
        var g = new ThermalGovernor(cores: 4, layers: 4);
        Assert.Equal(new DecodeBudget(4, 4), g.Update(At(55)));
        Assert.Equal(new DecodeBudget(3, 3), g.Update(At(71)));   // warm: one core and one layer fewer
        Assert.Equal(new DecodeBudget(1, 1), g.Update(At(78)));   // hot: minimal, still below the 80 °C soft limit
        Assert.Equal(2, g.Level);
        g.Update(At(74));
        g.Update(At(72));
        Assert.Equal(2, g.Level);                                  // 74 and 72 are not below 77 - 4 = 73 for long enough
        g.Update(At(72));
        g.Update(At(72));
        Assert.Equal(1, g.Level);                                  // three readings below 73: one step up
        for (int i = 0; i < 3; i++)
        {
            g.Update(At(67));
        }

        Assert.Equal(1, g.Level);                                  // 67 is not below 70 - 4: stays reduced
        for (int i = 0; i < 3; i++)
        {
            g.Update(At(65));
        }

        Assert.Equal(0, g.Level);
        Assert.Equal(new DecodeBudget(4, 4), g.Budget);
    }

    [Fact]
    public void Firmware_throttling_forces_the_minimal_budget_at_any_temperature()
    {
        var g = new ThermalGovernor(4, 4);
        Assert.Equal(new DecodeBudget(1, 1), g.Update(At(50, ThrottleFlags.UnderVoltage)));
        for (int i = 0; i < 3; i++)
        {
            g.Update(At(50, ThrottleFlags.UnderVoltage | ThrottleFlags.UnderVoltageOccurred));
        }

        Assert.Equal(2, g.Level);                                  // still limiting now: no restore
        for (int i = 0; i < 6; i++)
        {
            g.Update(At(50, ThrottleFlags.UnderVoltageOccurred)); // only the "since boot" bit: recovers
        }

        Assert.Equal(0, g.Level);
    }
}
