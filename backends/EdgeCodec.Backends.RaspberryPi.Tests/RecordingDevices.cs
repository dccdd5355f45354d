using System.Device.Gpio;
using System.Device.Spi;

namespace EdgeCodec.Backends.RaspberryPi.Tests;

/// <summary>A GPIO driver with no hardware: remembers pin modes and values (as dotnet/iot's own tests do).</summary>
internal sealed class RecordingGpioDriver : GpioDriver
{
    private readonly Dictionary<int, PinValue> _values = [];
    private readonly Dictionary<int, PinMode> _modes = [];

    public PinValue ValueOf(int pin) => _values.TryGetValue(pin, out var v) ? v : PinValue.Low;

    protected override int PinCount => 64;

    protected override void OpenPin(int pinNumber) => _modes[pinNumber] = PinMode.Input;

    protected override void ClosePin(int pinNumber) => _modes.Remove(pinNumber);

    protected override void SetPinMode(int pinNumber, PinMode mode) => _modes[pinNumber] = mode;

    protected override PinMode GetPinMode(int pinNumber) => _modes.TryGetValue(pinNumber, out var m) ? m : PinMode.Input;

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber) => ValueOf(pinNumber);

    protected override void Write(int pinNumber, PinValue value) => _values[pinNumber] = value;

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        new() { TimedOut = true, EventTypes = PinEventTypes.None };

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
    }
}

/// <summary>An SPI device that records every write together with the data/command pin level at that moment.</summary>
internal sealed class RecordingSpiDevice(RecordingGpioDriver gpio, int dataCommandPin) : SpiDevice
{
    public List<(bool IsData, byte[] Bytes)> Writes { get; } = [];

    public override SpiConnectionSettings ConnectionSettings { get; } = new(0, 0) { ClockFrequency = 24_000_000 };

    public override byte ReadByte() => 0;

    public override void Read(Span<byte> buffer) => buffer.Clear();

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(ReadOnlySpan<byte> buffer) => Writes.Add((gpio.ValueOf(dataCommandPin) == PinValue.High, buffer.ToArray()));

    public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        readBuffer.Clear();
    }
}
