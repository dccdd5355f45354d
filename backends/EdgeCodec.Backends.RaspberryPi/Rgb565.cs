using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeCodec.Imaging;

namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>
/// Interleaved RGB888 → RGB565, two bytes per pixel, most significant byte first (the order ILI934x
/// panels expect on the wire). A portable Vector128 path (16 pixels a step) with a scalar tail; both give
/// identical bytes (tested on every length).
/// </summary>
public static class Rgb565
{
    /// <summary>Converts <c>rgb.Length / 3</c> pixels.</summary>
    /// <param name="rgb">Interleaved RGB bytes; length a multiple of 3.</param>
    /// <param name="output">Receives <c>2 × pixels</c> bytes.</param>
    /// <exception cref="ArgumentException">Lengths do not match.</exception>
    public static void Convert(ReadOnlySpan<byte> rgb, Span<byte> output)
    {
        if (rgb.Length % 3 != 0 || output.Length < rgb.Length / 3 * 2)
        {
            throw new ArgumentException($"{rgb.Length} RGB bytes need {rgb.Length / 3 * 2} output bytes and a length divisible by 3.", nameof(output));
        }

        int pixels = rgb.Length / 3;
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= pixels; i += 16)
            {
                ConvertBlock(rgb.Slice(i * 3, 48), output.Slice(i * 2, 32));
            }
        }

        ConvertScalar(rgb[(i * 3)..], output[(i * 2)..]);
    }

    /// <summary>The scalar reference.</summary>
    internal static void ConvertScalar(ReadOnlySpan<byte> rgb, Span<byte> output)
    {
        for (int p = 0; p < rgb.Length / 3; p++)
        {
            int r = rgb[3 * p], g = rgb[(3 * p) + 1], b = rgb[(3 * p) + 2];
            int v = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
            output[2 * p] = (byte)(v >> 8);
            output[(2 * p) + 1] = (byte)v;
        }
    }

    private static void ConvertBlock(ReadOnlySpan<byte> rgb, Span<byte> output)
    {
        var (red, green, blue) = Rgb24Vectors.Load(ref MemoryMarshal.GetReference(rgb), 0);
        var hi = (red & Vector128.Create((byte)0xF8)) | Vector128.ShiftRightLogical(green, 5);
        var lo = (Vector128.ShiftLeft(green, 3) & Vector128.Create((byte)0xE0)) | Vector128.ShiftRightLogical(blue, 3);

        // Little-endian ushort (lo << 8 | hi) stores hi first: the big-endian wire order.
        var (hiLow, hiHigh) = Vector128.Widen(hi);
        var (loLow, loHigh) = Vector128.Widen(lo);
        var first = Vector128.ShiftLeft(loLow, 8) | hiLow;
        var second = Vector128.ShiftLeft(loHigh, 8) | hiHigh;
        first.AsByte().CopyTo(output);
        second.AsByte().CopyTo(output[16..]);
    }
}
