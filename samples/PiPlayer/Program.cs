// PiPlayer: decode EdgeCodec containers on a Raspberry Pi under a thermal budget and show them on an
// ILI9341 SPI TFT (SPI0 CE0, D/C on GPIO 25, reset on GPIO 24, backlight on GPIO 18).
//
//   dotnet PiPlayer.dll frame1.ecx [frame2.ecx ...] [--no-display]
using System.Device.Gpio;
using System.Device.Spi;
using EdgeCodec.Backends;
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Backends.RaspberryPi;
using EdgeCodec.Models;
using Iot.Device.Ili934x;

bool display = !args.Contains("--no-display");
var files = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
if (files.Count == 0)
{
    Console.Error.WriteLine("usage: PiPlayer FILE.ecx [...] [--no-display]");
    return 2;
}

RaspberryPiBackend.Register(); // `rpi` and the SIMD engine it runs on (`cpu`, also when not on a Pi)
var cpu = (CpuBackend)DecoderBackends.Get(CpuBackend.BackendName);
Console.WriteLine($"cpu backend: {cpu.Isa} path (this CPU: {CpuBackend.HardwareIsa})");
if (CpuBackend.IsaShortfall is { } shortfall)
{
    Console.Error.WriteLine($"warning: {shortfall}"); // e.g. a Native AOT build for a baseline instruction set
}

var pack = ModelPack.LoadDefault();
var governor = new ThermalGovernor(Environment.ProcessorCount, pack.Layout.Groups);
using var decoder = new ThermalAwareDecoder(pack, new ThermalSensor(), governor, DecoderBackends.Auto);
TftDisplaySink? sink = null;
if (display)
{
    var spi = SpiDevice.Create(new SpiConnectionSettings(0, 0) { ClockFrequency = Ili9341.DefaultSpiClockFrequency, Mode = Ili9341.DefaultSpiMode });
    var panel = new Ili9341(spi, 25, 24, 18, 4096, new GpioController(), true);
    sink = new TftDisplaySink(panel);
}

foreach (string file in files)
{
    using var input = File.OpenRead(file);
    var frame = decoder.Decode(input);
    sink?.Show(frame.Image);
    Console.WriteLine($"{Path.GetFileName(file)}: {frame.Image.Width}x{frame.Image.Height}, {(decoder.LastReading?.MaxCelsius is double celsius ? $"{celsius:F1} °C" : "no thermal zone read")}, " +
        $"budget {decoder.LastBudget.Threads} threads / {decoder.LastBudget.MaxLayers} layers, {frame.Timings.TotalSeconds * 1000:F0} ms on {frame.Backend}");
}

sink?.Dispose();
return 0;
