using System.Runtime.Intrinsics;

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
        var a = Vector128.Create(rgb[..16]);
        var b = Vector128.Create(rgb.Slice(16, 16));
        var c = Vector128.Create(rgb.Slice(32, 16));
        var red = Gather(a, b, c, 0);
        var green = Gather(a, b, c, 1);
        var blue = Gather(a, b, c, 2);
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

    /// <summary>Picks channel <paramref name="channel"/> of 16 interleaved pixels spread over three vectors.</summary>
    private static Vector128<byte> Gather(Vector128<byte> a, Vector128<byte> b, Vector128<byte> c, int channel)
    {
        // Vector128.Shuffle yields 0 for out-of-range indices, so the three picks combine with OR.
        return Vector128.Shuffle(a, s_indices[(3 * channel) + 0])
            | Vector128.Shuffle(b, s_indices[(3 * channel) + 1])
            | Vector128.Shuffle(c, s_indices[(3 * channel) + 2]);
    }

    private static readonly Vector128<byte>[] s_indices = BuildIndices();

    private static Vector128<byte>[] BuildIndices()
    {
        var result = new Vector128<byte>[9];
        Span<byte> index = stackalloc byte[16];
        for (int channel = 0; channel < 3; channel++)
        {
            for (int source = 0; source < 3; source++)
            {
                for (int p = 0; p < 16; p++)
                {
                    int at = (3 * p) + channel - (16 * source);
                    index[p] = at is >= 0 and < 16 ? (byte)at : (byte)0xFF;
                }

                result[(3 * channel) + source] = Vector128.Create((ReadOnlySpan<byte>)index);
            }
        }

        return result;
    }
}
