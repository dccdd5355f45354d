using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCodec.Imaging;

/// <summary>
/// The byte moves around the YUV kernels: NV12/NV21's interleaved chroma pairs to two planar rows and back, and a YUYV
/// row to its Y, U and V rows and back. Each has a scalar reference and a 128-bit vector path (byte shuffles: SSSE3
/// <c>pshufb</c> on x64, <c>tbl</c> on Arm64) over whole steps, the scalar reference doing the tail. They only move
/// bytes, so the paths agree by construction; <c>YuvConversionTests</c> and the CPU check tool (Arm64 under qemu)
/// compare them on every length. The choice is made once (<see cref="Rgb24Vectors.Selected"/>).
/// </summary>
internal static class ChromaInterleave
{
    private const byte None = 0xFF;

    /// <summary>Even bytes of a vector into the low half (<c>[0]</c>) or the high half (<c>[1]</c>); odd bytes likewise (<c>[2]</c>, <c>[3]</c>).</summary>
    private static readonly Vector128<byte>[] s_split = [Gather(0, 0), Gather(0, 8), Gather(1, 0), Gather(1, 8)];

    /// <summary>Bytes 0..7 (<c>[0]</c>) or 8..15 (<c>[1]</c>) of a vector to the even bytes, the same to the odd bytes (<c>[2]</c>, <c>[3]</c>).</summary>
    private static readonly Vector128<byte>[] s_merge = [Scatter(0, 0), Scatter(0, 8), Scatter(1, 0), Scatter(1, 8)];

    /// <summary>For source vector q of four (16 YUYV pixel pairs): its U bytes (offset 1 of each 4) to bytes 4q..4q+3 (<c>[q]</c>), its V bytes (offset 3) likewise (<c>[4 + q]</c>).</summary>
    private static readonly Vector128<byte>[] s_yuyvChroma = BuildYuyvChroma();

    /// <summary>For output vector j of four: where its bytes come from in the luma vector (<c>[3j]</c>), U (<c>[3j + 1]</c>) and V (<c>[3j + 2]</c>).</summary>
    private static readonly Vector128<byte>[] s_yuyvPack = BuildYuyvPack();

    /// <summary>Splits <c>first.Length</c> pairs into their first and second bytes (NV12: U and V; NV21: V and U).</summary>
    public static void Split(ReadOnlySpan<byte> pairs, Span<byte> first, Span<byte> second)
    {
        int i = Rgb24Vectors.Selected ? SplitVector(pairs, first, second) : 0;
        SplitScalar(pairs[(2 * i)..], first[i..], second[i..]);
    }

    /// <summary>The scalar reference of <see cref="Split"/>.</summary>
    public static void SplitScalar(ReadOnlySpan<byte> pairs, Span<byte> first, Span<byte> second)
    {
        for (int i = 0; i < first.Length; i++)
        {
            first[i] = pairs[2 * i];
            second[i] = pairs[(2 * i) + 1];
        }
    }

    /// <summary>The vector path of <see cref="Split"/> over whole steps of 16 pairs; returns how many pairs it split.</summary>
    internal static int SplitVector(ReadOnlySpan<byte> pairs, Span<byte> first, Span<byte> second)
    {
        int steps = first.Length / 16;
        pairs = pairs[..(32 * steps)];
        first = first[..(16 * steps)];
        second = second[..(16 * steps)];
        ref byte src = ref MemoryMarshal.GetReference(pairs);
        ref byte a = ref MemoryMarshal.GetReference(first);
        ref byte b = ref MemoryMarshal.GetReference(second);
        for (int s = 0; s < steps; s++)
        {
            var lo = Vector128.LoadUnsafe(ref src, (nuint)(32 * s));
            var hi = Vector128.LoadUnsafe(ref src, (nuint)((32 * s) + 16));
            (Vector128.Shuffle(lo, s_split[0]) | Vector128.Shuffle(hi, s_split[1])).StoreUnsafe(ref a, (nuint)(16 * s));
            (Vector128.Shuffle(lo, s_split[2]) | Vector128.Shuffle(hi, s_split[3])).StoreUnsafe(ref b, (nuint)(16 * s));
        }

        return 16 * steps;
    }

    /// <summary>Interleaves <c>first.Length</c> pairs from their first and second bytes; the inverse of <see cref="Split"/>.</summary>
    public static void Merge(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> pairs)
    {
        int i = Rgb24Vectors.Selected ? MergeVector(first, second, pairs) : 0;
        MergeScalar(first[i..], second[i..], pairs[(2 * i)..]);
    }

    /// <summary>The scalar reference of <see cref="Merge"/>.</summary>
    public static void MergeScalar(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> pairs)
    {
        for (int i = 0; i < first.Length; i++)
        {
            pairs[2 * i] = first[i];
            pairs[(2 * i) + 1] = second[i];
        }
    }

    /// <summary>The vector path of <see cref="Merge"/> over whole steps of 16 pairs; returns how many pairs it wrote.</summary>
    internal static int MergeVector(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> pairs)
    {
        int steps = first.Length / 16;
        first = first[..(16 * steps)];
        second = second[..(16 * steps)];
        pairs = pairs[..(32 * steps)];
        ref byte a = ref MemoryMarshal.GetReference(first);
        ref byte b = ref MemoryMarshal.GetReference(second);
        ref byte dst = ref MemoryMarshal.GetReference(pairs);
        for (int s = 0; s < steps; s++)
        {
            var x = Vector128.LoadUnsafe(ref a, (nuint)(16 * s));
            var y = Vector128.LoadUnsafe(ref b, (nuint)(16 * s));
            (Vector128.Shuffle(x, s_merge[0]) | Vector128.Shuffle(y, s_merge[2])).StoreUnsafe(ref dst, (nuint)(32 * s));
            (Vector128.Shuffle(x, s_merge[1]) | Vector128.Shuffle(y, s_merge[3])).StoreUnsafe(ref dst, (nuint)((32 * s) + 16));
        }

        return 16 * steps;
    }

    /// <summary>Splits <c>u.Length</c> YUYV pixel pairs (Y0 U Y1 V) into <c>2 × u.Length</c> luma samples, U and V.</summary>
    public static void SplitYuyv(ReadOnlySpan<byte> packed, Span<byte> luma, Span<byte> u, Span<byte> v)
    {
        int i = Rgb24Vectors.Selected ? SplitYuyvVector(packed, luma, u, v) : 0;
        SplitYuyvScalar(packed[(4 * i)..], luma[(2 * i)..], u[i..], v[i..]);
    }

    /// <summary>The scalar reference of <see cref="SplitYuyv"/>.</summary>
    public static void SplitYuyvScalar(ReadOnlySpan<byte> packed, Span<byte> luma, Span<byte> u, Span<byte> v)
    {
        for (int pair = 0; pair < u.Length; pair++)
        {
            luma[2 * pair] = packed[4 * pair];
            u[pair] = packed[(4 * pair) + 1];
            luma[(2 * pair) + 1] = packed[(4 * pair) + 2];
            v[pair] = packed[(4 * pair) + 3];
        }
    }

    /// <summary>The vector path of <see cref="SplitYuyv"/> over whole steps of 16 pixel pairs (64 bytes); returns how many pairs it split.</summary>
    internal static int SplitYuyvVector(ReadOnlySpan<byte> packed, Span<byte> luma, Span<byte> u, Span<byte> v)
    {
        int steps = u.Length / 16;
        packed = packed[..(64 * steps)];
        luma = luma[..(32 * steps)];
        u = u[..(16 * steps)];
        v = v[..(16 * steps)];
        ref byte src = ref MemoryMarshal.GetReference(packed);
        ref byte l = ref MemoryMarshal.GetReference(luma);
        ref byte pu = ref MemoryMarshal.GetReference(u);
        ref byte pv = ref MemoryMarshal.GetReference(v);
        for (int s = 0; s < steps; s++)
        {
            var v0 = Vector128.LoadUnsafe(ref src, (nuint)(64 * s));
            var v1 = Vector128.LoadUnsafe(ref src, (nuint)((64 * s) + 16));
            var v2 = Vector128.LoadUnsafe(ref src, (nuint)((64 * s) + 32));
            var v3 = Vector128.LoadUnsafe(ref src, (nuint)((64 * s) + 48));
            (Vector128.Shuffle(v0, s_split[0]) | Vector128.Shuffle(v1, s_split[1])).StoreUnsafe(ref l, (nuint)(32 * s));
            (Vector128.Shuffle(v2, s_split[0]) | Vector128.Shuffle(v3, s_split[1])).StoreUnsafe(ref l, (nuint)((32 * s) + 16));
            (Vector128.Shuffle(v0, s_yuyvChroma[0]) | Vector128.Shuffle(v1, s_yuyvChroma[1]) | Vector128.Shuffle(v2, s_yuyvChroma[2])
                | Vector128.Shuffle(v3, s_yuyvChroma[3])).StoreUnsafe(ref pu, (nuint)(16 * s));
            (Vector128.Shuffle(v0, s_yuyvChroma[4]) | Vector128.Shuffle(v1, s_yuyvChroma[5]) | Vector128.Shuffle(v2, s_yuyvChroma[6])
                | Vector128.Shuffle(v3, s_yuyvChroma[7])).StoreUnsafe(ref pv, (nuint)(16 * s));
        }

        return 16 * steps;
    }

    /// <summary>Packs <c>u.Length</c> YUYV pixel pairs from <c>2 × u.Length</c> luma samples, U and V; the inverse of <see cref="SplitYuyv"/>.</summary>
    public static void MergeYuyv(ReadOnlySpan<byte> luma, ReadOnlySpan<byte> u, ReadOnlySpan<byte> v, Span<byte> packed)
    {
        int i = Rgb24Vectors.Selected ? MergeYuyvVector(luma, u, v, packed) : 0;
        MergeYuyvScalar(luma[(2 * i)..], u[i..], v[i..], packed[(4 * i)..]);
    }

    /// <summary>The scalar reference of <see cref="MergeYuyv"/>.</summary>
    public static void MergeYuyvScalar(ReadOnlySpan<byte> luma, ReadOnlySpan<byte> u, ReadOnlySpan<byte> v, Span<byte> packed)
    {
        for (int pair = 0; pair < u.Length; pair++)
        {
            packed[4 * pair] = luma[2 * pair];
            packed[(4 * pair) + 1] = u[pair];
            packed[(4 * pair) + 2] = luma[(2 * pair) + 1];
            packed[(4 * pair) + 3] = v[pair];
        }
    }

    /// <summary>The vector path of <see cref="MergeYuyv"/> over whole steps of 16 pixel pairs; returns how many pairs it wrote.</summary>
    internal static int MergeYuyvVector(ReadOnlySpan<byte> luma, ReadOnlySpan<byte> u, ReadOnlySpan<byte> v, Span<byte> packed)
    {
        int steps = u.Length / 16;
        luma = luma[..(32 * steps)];
        u = u[..(16 * steps)];
        v = v[..(16 * steps)];
        packed = packed[..(64 * steps)];
        ref byte l = ref MemoryMarshal.GetReference(luma);
        ref byte pu = ref MemoryMarshal.GetReference(u);
        ref byte pv = ref MemoryMarshal.GetReference(v);
        ref byte dst = ref MemoryMarshal.GetReference(packed);
        for (int s = 0; s < steps; s++)
        {
            var l0 = Vector128.LoadUnsafe(ref l, (nuint)(32 * s));
            var l1 = Vector128.LoadUnsafe(ref l, (nuint)((32 * s) + 16));
            var uu = Vector128.LoadUnsafe(ref pu, (nuint)(16 * s));
            var vv = Vector128.LoadUnsafe(ref pv, (nuint)(16 * s));
            for (int j = 0; j < 4; j++)
            {
                (Vector128.Shuffle(j < 2 ? l0 : l1, s_yuyvPack[3 * j]) | Vector128.Shuffle(uu, s_yuyvPack[(3 * j) + 1])
                    | Vector128.Shuffle(vv, s_yuyvPack[(3 * j) + 2])).StoreUnsafe(ref dst, (nuint)((64 * s) + (16 * j)));
            }
        }

        return 16 * steps;
    }

    /// <summary>Bytes <c>parity</c>, <c>parity + 2</c>, … of a vector to bytes <c>at</c> .. <c>at + 7</c>.</summary>
    private static Vector128<byte> Gather(int parity, int at)
    {
        Span<byte> index = stackalloc byte[16];
        index.Fill(None);
        for (int k = 0; k < 8; k++)
        {
            index[at + k] = (byte)((2 * k) + parity);
        }

        return Vector128.Create((ReadOnlySpan<byte>)index);
    }

    /// <summary>Bytes <c>from</c> .. <c>from + 7</c> of a vector to bytes <c>parity</c>, <c>parity + 2</c>, ….</summary>
    private static Vector128<byte> Scatter(int parity, int from)
    {
        Span<byte> index = stackalloc byte[16];
        index.Fill(None);
        for (int k = 0; k < 8; k++)
        {
            index[(2 * k) + parity] = (byte)(from + k);
        }

        return Vector128.Create((ReadOnlySpan<byte>)index);
    }

    private static Vector128<byte>[] BuildYuyvChroma()
    {
        var result = new Vector128<byte>[8];
        Span<byte> index = stackalloc byte[16];
        for (int channel = 0; channel < 2; channel++)
        {
            for (int q = 0; q < 4; q++)
            {
                index.Fill(None);
                for (int k = 0; k < 4; k++)
                {
                    index[(4 * q) + k] = (byte)((4 * k) + 1 + (2 * channel)); // U at offset 1, V at offset 3 of each pair
                }

                result[(4 * channel) + q] = Vector128.Create((ReadOnlySpan<byte>)index);
            }
        }

        return result;
    }

    private static Vector128<byte>[] BuildYuyvPack()
    {
        var result = new Vector128<byte>[12];
        Span<byte> luma = stackalloc byte[16], u = stackalloc byte[16], v = stackalloc byte[16];
        for (int j = 0; j < 4; j++)
        {
            luma.Fill(None);
            u.Fill(None);
            v.Fill(None);
            for (int b = 0; b < 16; b++)
            {
                int pair = (4 * j) + (b / 4); // pixel pair of the 16 in a step
                switch (b % 4)
                {
                    case 0: luma[b] = (byte)((2 * pair) % 16); break;
                    case 1: u[b] = (byte)pair; break;
                    case 2: luma[b] = (byte)(((2 * pair) + 1) % 16); break;
                    default: v[b] = (byte)pair; break;
                }
            }

            result[3 * j] = Vector128.Create((ReadOnlySpan<byte>)luma);
            result[(3 * j) + 1] = Vector128.Create((ReadOnlySpan<byte>)u);
            result[(3 * j) + 2] = Vector128.Create((ReadOnlySpan<byte>)v);
        }

        return result;
    }
}
