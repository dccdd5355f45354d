namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>One reading of the board's thermal state.</summary>
/// <param name="MaxCelsius">Hottest zone in degrees Celsius, or null when no zone could be read.</param>
/// <param name="Zones">Every readable zone: name (its <c>type</c>, or the folder name) and temperature.</param>
/// <param name="Throttling">Firmware throttling flags, or null when unavailable.</param>
public sealed record ThermalSnapshot(double? MaxCelsius, IReadOnlyList<(string Zone, double Celsius)> Zones, ThrottleFlags? Throttling);
