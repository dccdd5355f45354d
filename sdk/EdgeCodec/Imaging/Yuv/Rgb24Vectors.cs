using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeCodec.Imaging;

/// <summary>
/// The 128-bit vector steps both YUV kernels share: 16 interleaved RGB pixels (48 bytes) to three channel vectors and
/// back, bytes widened to four vectors of 32-bit lanes, and 32-bit lanes clamped to 0..255 and packed into bytes.
/// </summary>
internal static class Rgb24Vectors
{
    /// <summary>Whether the YUV kernels run their vector paths: chosen once for all of them, when 128-bit vectors are hardware-accelerated.</summary>
    public static readonly bool Selected = Vector128.IsHardwareAccelerated;

    /// <summary>For channel c and source vector s (of the three that hold 16 pixels), the byte of s each channel byte comes from (0xFF: none).</summary>
    private static readonly Vector128<byte>[] s_gather = BuildShuffles(gather: true);

    /// <summary>For output vector j and channel c, the pixel whose channel c lands in each byte of j (0xFF: none).</summary>
    private static readonly Vector128<byte>[] s_interleave = BuildShuffles(gather: false);

    /// <summary>Splits 16 interleaved pixels at <paramref name="source"/> + <paramref name="offset"/> into R, G and B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<byte> R, Vector128<byte> G, Vector128<byte> B) Load(ref byte source, int offset)
    {
        var v0 = Vector128.LoadUnsafe(ref source, (nuint)offset);
        var v1 = Vector128.LoadUnsafe(ref source, (nuint)(offset + 16));
        var v2 = Vector128.LoadUnsafe(ref source, (nuint)(offset + 32));

        // Vector128.Shuffle gives 0 for an index out of range, so each channel is three shuffles ORed.
        return (Pick(v0, v1, v2, 0), Pick(v0, v1, v2, 1), Pick(v0, v1, v2, 2));
    }

    /// <summary>Interleaves 16 pixels' R, G and B into 48 bytes at <paramref name="destination"/> + <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<byte> red, Vector128<byte> green, Vector128<byte> blue, ref byte destination, int offset)
    {
        for (int j = 0; j < 3; j++)
        {
            var bytes = Vector128.Shuffle(red, s_interleave[3 * j]) | Vector128.Shuffle(green, s_interleave[(3 * j) + 1])
                | Vector128.Shuffle(blue, s_interleave[(3 * j) + 2]);
            bytes.StoreUnsafe(ref destination, (nuint)(offset + (16 * j)));
        }
    }

    /// <summary>16 bytes as four vectors of four 32-bit lanes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<int>, Vector128<int>, Vector128<int>, Vector128<int>) Widen(Vector128<byte> bytes)
    {
        var (lo, hi) = Vector128.Widen(bytes);
        var (a, b) = Vector128.Widen(lo);
        var (c, d) = Vector128.Widen(hi);
        return (a.AsInt32(), b.AsInt32(), c.AsInt32(), d.AsInt32());
    }

    /// <summary>Clamps 16 values to 0..255 and packs them into bytes, in order (exact: nothing is left to truncate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Narrow(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d) =>
        Vector128.Narrow(Vector128.Narrow(Clamp(a), Clamp(b)), Vector128.Narrow(Clamp(c), Clamp(d)));

    /// <summary>Clamps 8 values to 0..255 and packs them into 8 bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Narrow(Vector128<int> a, Vector128<int> b)
    {
        var words = Vector128.Narrow(Clamp(a), Clamp(b));
        return Vector128.Narrow(words, words).AsUInt64().ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Clamp(Vector128<int> x) => Vector128.Min(Vector128.Max(x, Vector128<int>.Zero), Vector128.Create(255)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Pick(Vector128<byte> v0, Vector128<byte> v1, Vector128<byte> v2, int channel) =>
        Vector128.Shuffle(v0, s_gather[3 * channel]) | Vector128.Shuffle(v1, s_gather[(3 * channel) + 1]) | Vector128.Shuffle(v2, s_gather[(3 * channel) + 2]);

    private static Vector128<byte>[] BuildShuffles(bool gather)
    {
        var result = new Vector128<byte>[9];
        Span<byte> index = stackalloc byte[16];
        for (int outer = 0; outer < 3; outer++)
        {
            for (int inner = 0; inner < 3; inner++)
            {
                for (int i = 0; i < 16; i++)
                {
                    if (gather)
                    {
                        // Channel `outer` of pixel i sits at byte 3i + outer of the 48, in source vector `inner` or not.
                        int at = (3 * i) + outer - (16 * inner);
                        index[i] = at is >= 0 and < 16 ? (byte)at : (byte)0xFF;
                    }
                    else
                    {
                        // Byte i of output vector `outer` is byte 16·outer + i = 3·pixel + channel; channel `inner` or not.
                        int at = (16 * outer) + i;
                        index[i] = at % 3 == inner ? (byte)(at / 3) : (byte)0xFF;
                    }
                }

                result[(3 * outer) + inner] = Vector128.Create((ReadOnlySpan<byte>)index);
            }
        }

        return result;
    }
}
