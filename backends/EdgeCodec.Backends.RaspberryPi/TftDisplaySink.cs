using System.Drawing;
using EdgeCodec.Imaging;
using Iot.Device.Ili934x;

namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>
/// Shows decoded frames on an ILI9341/ILI9342 SPI TFT (dotnet/iot <c>Iot.Device.Ili934x</c>): the frame is
/// centre-cropped (or letterboxed) to the panel, converted to RGB565 and sent with <c>SendBitmapPixelData</c>.
/// </summary>
public sealed class TftDisplaySink : IDisposable
{
    private readonly Ili9341 _display;
    private readonly bool _shouldDispose;
    private byte[] _buffer = [];

    /// <summary>Wraps an initialised display.</summary>
    /// <param name="display">The panel.</param>
    /// <param name="shouldDispose">Dispose the panel with this sink.</param>
    public TftDisplaySink(Ili9341 display, bool shouldDispose = true)
    {
        ArgumentNullException.ThrowIfNull(display);
        _display = display;
        _shouldDispose = shouldDispose;
    }

    /// <summary>Frames shown so far.</summary>
    public int FramesShown { get; private set; }

    /// <summary>Sends <paramref name="frame"/> to the panel (centre crop where larger, top-left aligned where smaller).</summary>
    /// <param name="frame">The decoded frame; read only.</param>
    public void Show(RgbImage frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int w = Math.Min(frame.Width, _display.ScreenWidth);
        int h = Math.Min(frame.Height, _display.ScreenHeight);
        int x0 = (frame.Width - w) / 2, y0 = (frame.Height - h) / 2;
        if (_buffer.Length < w * h * 2)
        {
            _buffer = new byte[w * h * 2];
        }

        for (int y = 0; y < h; y++)
        {
            Rgb565.Convert(frame.Row(y0 + y).Slice(x0 * 3, w * 3), _buffer.AsSpan(y * w * 2, w * 2));
        }

        _display.SendBitmapPixelData(_buffer.AsSpan(0, w * h * 2), new Rectangle(0, 0, w, h));
        FramesShown++;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_shouldDispose)
        {
            _display.Dispose();
        }
    }
}
