// Raspberry Pi package checks for Arm64 (run under qemu by device-tests/run-arm64.sh): the RGB565 vector path
// against its scalar reference, thermal scenarios on a fake sysfs tree, the exact SPI bytes of a frame, and with
// `--vectors DIR --model PACK --expect-isa ISA` the `rpi` backend end to end on a fake board: the device vectors
// decoded through ThermalAwareDecoder on the SIMD engine, every picture the x64 reference's.
using System.Device.Gpio;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using EdgeCodec.Backends;
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Backends.RaspberryPi;
using EdgeCodec.Backends.RaspberryPi.Tests;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using Iot.Device.Ili934x;

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

int failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
    failures += ok ? 0 : 1;
}

Console.WriteLine($"{RuntimeInformation.ProcessArchitecture}, Vector128 accelerated: {Vector128.IsHardwareAccelerated}");

var rng = new Random(565);
bool rgbOk = true;
for (int pixels = 0; pixels <= 200; pixels++)
{
    var rgb = new byte[pixels * 3];
    rng.NextBytes(rgb);
    var fast = new byte[pixels * 2];
    var slow = new byte[pixels * 2];
    Rgb565.Convert(rgb, fast);
    Rgb565.ConvertScalar(rgb, slow);
    rgbOk &= fast.AsSpan().SequenceEqual(slow);
}

Check(rgbOk, "RGB565 vector path == scalar reference, lengths 0..200");

using (var sys = new FakeSysfs().Zone(0, "cpu-thermal", 50).Zone(1, "rp1_adc", 52).Throttled("0x0"))
{
    var sensor = new ThermalSensor(sys.Root);
    var governor = new ThermalGovernor(4, 4) { CoolDownReadings = 1 };
    var budgets = new List<DecodeBudget> { governor.Update(sensor.Read()) };
    sys.Zone(1, "rp1_adc", 72);
    budgets.Add(governor.Update(sensor.Read()));
    sys.Throttled("0x50005");
    budgets.Add(governor.Update(sensor.Read()));
    sys.Zone(1, "rp1_adc", 40).Throttled("0x50000");
    budgets.Add(governor.Update(sensor.Read()));
    budgets.Add(governor.Update(sensor.Read()));
    DecodeBudget[] expected = [new(4, 4), new(3, 3), new(1, 1), new(3, 3), new(4, 4)];
    Check(budgets.SequenceEqual(expected), $"thermal scenario on fake sysfs: {string.Join(" ", budgets.Select(b => $"{b.Threads}/{b.MaxLayers}"))}");
}

{
    var driver = new RecordingGpioDriver();
    using var gpio = new GpioController(driver);
    var spi = new RecordingSpiDevice(driver, 25);
    using var display = new Ili9341(spi, 25, 24, -1, 4096, gpio, false);
    using var sink = new TftDisplaySink(display, shouldDispose: false);
    var frame = new RgbImage(display.ScreenWidth, display.ScreenHeight);
    rng.NextBytes(frame.Pixels);
    spi.Writes.Clear();
    sink.Show(frame);
    var expected = new byte[frame.Pixels.Length / 3 * 2];
    Rgb565.ConvertScalar(frame.Pixels, expected);
    int last = spi.Writes.FindLastIndex(w => !w.IsData && w.Bytes.Contains((byte)0x2C));
    byte[] sent = [.. spi.Writes.Skip(last + 1).Where(w => w.IsData).SelectMany(w => w.Bytes)];
    Check(last >= 0 && sent.AsSpan().SequenceEqual(expected), $"ILI9341 receives exactly the frame's RGB565 bytes ({sent.Length})");
}

if (Option("--vectors") is { } vectors)
{
    var pack = Option("--model") is { } path ? ModelPack.Load(path) : ModelPack.LoadDefault();
    string board = Path.GetTempFileName();
    File.WriteAllText(board, "Raspberry Pi 5 Model B Rev 1.0\0");
    RaspberryPiBackend.Register(); // rpi and cpu, as an app does
    DecoderBackends.Register(new RaspberryPiBackend(board)); // the same, reading the fake board's device-tree model
    var engine = RaspberryPiBackend.Engine(pack);
    string isa = engine is CpuBackend cpu ? cpu.Isa.ToString() : engine.Name;
    // By name, not `auto`: auto times the backends, and under qemu the emulated NEON can lose to the scalar reference.
    bool available = DecoderBackends.Get("rpi").IsAvailable(pack, out string why);
    Check(available && (Option("--expect-isa") is not { } expectIsa || expectIsa == isa),
        $"rpi available on the fake board{(available ? "" : $" (no: {why})")}, engine {engine.Name} path {isa}");
    using var sys = new FakeSysfs().Zone(0, "cpu-thermal", 50).Throttled("0x0");
    using var decoder = new ThermalAwareDecoder(pack, new ThermalSensor(sys.Root), new ThermalGovernor(2, pack.Layout.Groups), "rpi");
    foreach (string stream in Directory.GetFiles(vectors, "*.ecx").Order(StringComparer.Ordinal))
    {
        using var input = File.OpenRead(stream);
        var frame = decoder.Decode(input);
        string got = Convert.ToHexStringLower(SHA256.HashData(frame.Image.Pixels)); // rows packed, no padding
        string want = File.ReadLines(Path.ChangeExtension(stream, ".sha256")).Single(l => l.StartsWith("rgb-sha256 ", StringComparison.Ordinal))[11..];
        Check(frame.Backend == engine.Name && got == want, $"rpi decodes {Path.GetFileName(stream)} on a cool board: synthesis on {frame.Backend}, rgb {got[..16]} {(got == want ? "identical to x64" : "DIFFERS from x64")}");
    }

    File.Delete(board);
}

Console.WriteLine(failures == 0 ? "PASS" : $"FAIL ({failures})");
return failures == 0 ? 0 : 1;
