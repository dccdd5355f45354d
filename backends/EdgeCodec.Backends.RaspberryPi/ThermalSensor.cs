using System.Globalization;

namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>
/// Reads every <c>/sys/class/thermal/thermal_zone*</c> (dotnet/iot's <c>CpuTemperature</c> reads only zone 0; a Pi 5
/// also reports the RP1 and PMIC) and the firmware's <c>get_throttled</c> flags. The sysfs root is a parameter,
/// so tests run real scenarios on a fake tree.
/// </summary>
public sealed class ThermalSensor
{
    private readonly string _thermalRoot;
    private readonly string _throttledPath;

    /// <summary>Creates a sensor over a sysfs tree.</summary>
    /// <param name="sysfsRoot">The root that holds <c>class/thermal</c> and <c>devices/platform/soc/soc:firmware/get_throttled</c>; default <c>/sys</c>.</param>
    public ThermalSensor(string sysfsRoot = "/sys")
    {
        _thermalRoot = Path.Combine(sysfsRoot, "class", "thermal");
        _throttledPath = Path.Combine(sysfsRoot, "devices", "platform", "soc", "soc:firmware", "get_throttled");
    }

    /// <summary>Reads all zones and the throttling flags. Unreadable parts are left out, never thrown.</summary>
    public ThermalSnapshot Read()
    {
        var zones = new List<(string, double)>();
        if (Directory.Exists(_thermalRoot))
        {
            foreach (string dir in Directory.GetDirectories(_thermalRoot, "thermal_zone*").Order(StringComparer.Ordinal))
            {
                if (TryReadMilliCelsius(Path.Combine(dir, "temp"), out double celsius))
                {
                    string name = TryReadText(Path.Combine(dir, "type")) ?? Path.GetFileName(dir);
                    zones.Add((name, celsius));
                }
            }
        }

        ThrottleFlags? flags = ThrottleFlagsParser.TryParse(TryReadText(_throttledPath), out var f) ? f : null;
        return new ThermalSnapshot(zones.Count > 0 ? zones.Max(z => z.Item2) : null, zones, flags);
    }

    private static bool TryReadMilliCelsius(string path, out double celsius)
    {
        celsius = 0;
        string? text = TryReadText(path);
        if (text is null || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long milli) || milli < -50_000 || milli > 200_000)
        {
            return false;
        }

        celsius = milli / 1000.0;
        return true;
    }

    private static string? TryReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
