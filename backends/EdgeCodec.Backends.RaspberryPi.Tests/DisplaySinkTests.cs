using System.Device.Gpio;
using EdgeCodec.Imaging;
using Iot.Device.Ili934x;

namespace EdgeCodec.Backends.RaspberryPi.Tests;

public sealed class DisplaySinkTests
{
    private const int DataCommandPin = 25;
    private const int ResetPin = 24;

    [Fact]
    public void A_frame_reaches_the_panel_as_exactly_its_rgb565_bytes()
    {
        var driver = new RecordingGpioDriver();
        using var gpio = new GpioController(driver);
        var spi = new RecordingSpiDevice(driver, DataCommandPin);
        using var display = new Ili9341(spi, DataCommandPin, ResetPin, -1, 4096, gpio, false);
        using var sink = new TftDisplaySink(display, shouldDispose: false);

        var frame = new RgbImage(400, 360); // larger than the 240x320 panel in both directions: centre crop
        new Random(9341).NextBytes(frame.Pixels);
        spi.Writes.Clear();
        sink.Show(frame);

        int w = display.ScreenWidth, h = display.ScreenHeight, x0 = (400 - w) / 2, y0 = (360 - h) / 2;
        var expected = new byte[w * h * 2];
        for (int y = 0; y < h; y++)
        {
            Rgb565.ConvertScalar(frame.Row(y0 + y).Slice(x0 * 3, w * 3), expected.AsSpan(y * w * 2, w * 2));
        }

        // Everything sent in data mode after the last "memory write" command (0x2C) is pixel data.
        int lastCommand = spi.Writes.FindLastIndex(w => !w.IsData && w.Bytes.Contains((byte)0x2C));
        Assert.True(lastCommand >= 0, "no memory-write command was sent");
        byte[] sent = [.. spi.Writes.Skip(lastCommand + 1).Where(w => w.IsData).SelectMany(w => w.Bytes)];
        Assert.Equal(expected.Length, sent.Length);
        Assert.Equal(expected, sent);
        Assert.Equal(1, sink.FramesShown);
    }
}
