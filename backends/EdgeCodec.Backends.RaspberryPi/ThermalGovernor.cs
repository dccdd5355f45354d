namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>
/// Lowers decode work before the SoC throttles and restores it when the board has cooled. Three levels:
/// full (all cores, all layers), reduced (one core fewer, one layer fewer), minimal (one core, base layer).
/// Levels go down at once (at <see cref="WarmCelsius"/>, <see cref="HotCelsius"/>, or when the firmware
/// reports any limiting now) and up one step at a time, only after <see cref="CoolDownReadings"/> readings
/// below the lower threshold minus <see cref="HysteresisCelsius"/>, so the budget does not oscillate.
/// </summary>
public sealed class ThermalGovernor
{
    private readonly int _cores;
    private readonly int _layers;
    private int _level;
    private int _coolReadings;

    /// <summary>Creates a governor for a board with <paramref name="cores"/> cores and a stream of <paramref name="layers"/> layers.</summary>
    /// <param name="cores">Cores available for decoding (≥ 1).</param>
    /// <param name="layers">Refinement layers of the stream (≥ 1).</param>
    public ThermalGovernor(int cores, int layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        _cores = cores;
        _layers = layers;
    }

    /// <summary>Above this, decode work is reduced (default 70 °C; the Pi firmware soft limit is 80 °C).</summary>
    public double WarmCelsius { get; init; } = 70;

    /// <summary>Above this, decode work is minimal (default 77 °C).</summary>
    public double HotCelsius { get; init; } = 77;

    /// <summary>Degrees below a threshold the board must reach before work is restored (default 4).</summary>
    public double HysteresisCelsius { get; init; } = 4;

    /// <summary>Consecutive cool readings needed to go up one level (default 3).</summary>
    public int CoolDownReadings { get; init; } = 3;

    /// <summary>Current level: 0 full, 1 reduced, 2 minimal.</summary>
    public int Level => _level;

    /// <summary>The budget for the current level.</summary>
    public DecodeBudget Budget => _level switch
    {
        0 => new DecodeBudget(_cores, _layers),
        1 => new DecodeBudget(Math.Max(1, _cores - 1), Math.Max(1, _layers - 1)),
        _ => new DecodeBudget(1, 1),
    };

    /// <summary>Feeds one reading and returns the budget to use for the next frame.</summary>
    /// <param name="snapshot">A reading from <see cref="ThermalSensor"/>.</param>
    public DecodeBudget Update(ThermalSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        double t = snapshot.MaxCelsius ?? double.NegativeInfinity;
        bool limiting = snapshot.Throttling is { } f && f.IsLimitingNow();
        int wanted = limiting || t >= HotCelsius ? 2 : t >= WarmCelsius ? 1 : 0;
        if (wanted > _level)
        {
            _level = wanted;
            _coolReadings = 0;
        }
        else if (_level > 0)
        {
            double restoreBelow = (_level == 2 ? HotCelsius : WarmCelsius) - HysteresisCelsius;
            _coolReadings = !limiting && t < restoreBelow ? _coolReadings + 1 : 0;
            if (_coolReadings >= CoolDownReadings)
            {
                _level--;
                _coolReadings = 0;
            }
        }

        return Budget;
    }
}
