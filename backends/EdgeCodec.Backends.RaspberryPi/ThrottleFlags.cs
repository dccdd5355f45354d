using System.Globalization;

namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>The firmware's <c>get_throttled</c> bits (Raspberry Pi). Bits 0-3 are "now", bits 16-19 "since boot".</summary>
[Flags]
public enum ThrottleFlags
{
    /// <summary>Nothing reported.</summary>
    None = 0,

    /// <summary>Under-voltage detected now.</summary>
    UnderVoltage = 1 << 0,

    /// <summary>ARM frequency capped now.</summary>
    FrequencyCapped = 1 << 1,

    /// <summary>Currently throttled.</summary>
    Throttled = 1 << 2,

    /// <summary>Soft temperature limit active now.</summary>
    SoftTemperatureLimit = 1 << 3,

    /// <summary>Under-voltage has occurred since boot.</summary>
    UnderVoltageOccurred = 1 << 16,

    /// <summary>Frequency capping has occurred since boot.</summary>
    FrequencyCappedOccurred = 1 << 17,

    /// <summary>Throttling has occurred since boot.</summary>
    ThrottledOccurred = 1 << 18,

    /// <summary>The soft temperature limit has been reached since boot.</summary>
    SoftTemperatureLimitOccurred = 1 << 19,
}

/// <summary>Parses <c>get_throttled</c> output: <c>0x50005</c> (sysfs) or <c>throttled=0x50005</c> (vcgencmd).</summary>
public static class ThrottleFlagsParser
{
    /// <summary>Parses the text; false when it is not a hexadecimal value.</summary>
    /// <param name="text">Raw text from sysfs or vcgencmd.</param>
    /// <param name="flags">The flags.</param>
    public static bool TryParse(string? text, out ThrottleFlags flags)
    {
        flags = ThrottleFlags.None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string s = text.Trim();
        int eq = s.IndexOf('=', StringComparison.Ordinal);
        if (eq >= 0)
        {
            s = s[(eq + 1)..];
        }

        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }

        if (!uint.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint value))
        {
            return false;
        }

        flags = (ThrottleFlags)(int)value;
        return true;
    }

    /// <summary>True when any "now" bit is set: the SoC is already being slowed.</summary>
    /// <param name="flags">The flags.</param>
    public static bool IsLimitingNow(this ThrottleFlags flags) =>
        (flags & (ThrottleFlags.UnderVoltage | ThrottleFlags.FrequencyCapped | ThrottleFlags.Throttled | ThrottleFlags.SoftTemperatureLimit)) != 0;
}
