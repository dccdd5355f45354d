namespace EdgeCodec.Backends.RaspberryPi.Tests;

/// <summary>A throw-away sysfs tree: thermal zones and the firmware's get_throttled.</summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs() => Root = Directory.CreateTempSubdirectory("sysfs").FullName;

    public string Root { get; }

    public FakeSysfs Zone(int index, string type, double celsius)
    {
        string dir = Path.Combine(Root, "class", "thermal", $"thermal_zone{index}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "type"), type + "\n");
        File.WriteAllText(Path.Combine(dir, "temp"), $"{(long)(celsius * 1000)}\n");
        return this;
    }

    public FakeSysfs Throttled(string raw)
    {
        string dir = Path.Combine(Root, "devices", "platform", "soc", "soc:firmware");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "get_throttled"), raw + "\n");
        return this;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
