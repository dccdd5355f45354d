namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// u8 × s8 conv accumulation with AVX-512BW for CPUs with AVX-512 but no VNNI reachable from .NET (Zen 4, Ice Lake,
/// Skylake-SP class): 4 pixels × 32 output channels per inner step on 16 zmm accumulators, weights
/// <see cref="WeightLayout.S16OcIc"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each group of 4 activation bytes is zero-extended to int16 and broadcast to every quadword of a zmm
/// (<c>vpbroadcastd</c> + <c>vpmovzxbw</c>); <c>vpmaddwd</c> against int16 weights <c>[8 oc][4 ic]</c> leaves, per output
/// channel, the sum over ic 0-1 in the even lane and over ic 2-3 in the odd lane. The two halves stay apart through
/// the whole reduction and are joined once per tile (<c>vpermt2d</c> even/odd + <c>vpaddd</c>), not per group as in the
/// AVX2 kernel's <c>vphaddd</c>.
/// </para>
/// <para>
/// Exactness: products are u8 (0..255) × s8 in int16 lanes, pair sums ≤ 2·255·128 cannot overflow <c>vpmaddwd</c>'s
/// int32; every later add wraps modulo 2^32, so the joined sum equals the reference's int32 sum bit for bit.
/// </para>
/// <para>
/// .NET 10 has no API for the EVEX <c>vpdpbusd</c> of AVX512-VNNI, so on these CPUs 16-bit multiplies are the
/// widest exact integer dot product available; the AVX-512 gain over <see cref="QU8ConvAvx2"/> is the 32 registers
/// (a 4×32 register tile: weights re-used over 4 pixels, activations over 32 channels) and half the instructions.
/// </para>
/// </remarks>
internal static unsafe class QU8ConvAvx512Bw
{
    private const int GroupBytes = 128; // 16 oc × 4 ic × int16

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref ConvTile t)
    {
        for (int b = 0; b < t.Blocks; b += 2)
        {
            bool pair = b + 1 < t.Blocks;
            byte* w = t.Weights + ((long)b * t.BlockStride);
            int* init = t.Init + (b * ConvGeometry.Block);
            for (int px = 0; px < t.Pixels; px += 4)
            {
                int n = Math.Min(4, t.Pixels - px);
                byte* x = t.Input + ((long)px * t.PixelStride);
                int* acc = t.Acc + (px * ConvGeometry.TileChannels) + (b * ConvGeometry.Block);
                if (pair)
                {
                    Pixels4x32(ref t, w, init, x, acc, n);
                }
                else
                {
                    Pixels4x16(ref t, w, init, x, acc, n);
                }
            }
        }
    }

    /// <summary>Up to 4 pixels × 2 blocks. Missing pixels re-read pixel 0 (always in bounds) and are not stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels4x32(ref ConvTile t, byte* w, int* init, byte* x, int* acc, int pixels)
    {
        Vector512<int> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<int> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<int> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<int> a30 = default, a31 = default, a32 = default, a33 = default;
        int s = t.PixelStride;
        int o1 = pixels > 1 ? s : 0, o2 = pixels > 2 ? 2 * s : 0, o3 = pixels > 3 ? 3 * s : 0;
        long wb = t.BlockStride;
        int groups = t.Groups;
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < groups; g++, p += 4, w += GroupBytes)
            {
                Vector512<short> w0 = Vector512.Load((short*)w), w1 = Vector512.Load((short*)(w + 64));
                Vector512<short> w2 = Vector512.Load((short*)(w + wb)), w3 = Vector512.Load((short*)(w + wb + 64));
                Vector512<short> x0 = Widen(p);
                a00 += Avx512BW.MultiplyAddAdjacent(x0, w0);
                a01 += Avx512BW.MultiplyAddAdjacent(x0, w1);
                a02 += Avx512BW.MultiplyAddAdjacent(x0, w2);
                a03 += Avx512BW.MultiplyAddAdjacent(x0, w3);
                Vector512<short> x1 = Widen(p + o1);
                a10 += Avx512BW.MultiplyAddAdjacent(x1, w0);
                a11 += Avx512BW.MultiplyAddAdjacent(x1, w1);
                a12 += Avx512BW.MultiplyAddAdjacent(x1, w2);
                a13 += Avx512BW.MultiplyAddAdjacent(x1, w3);
                Vector512<short> x2 = Widen(p + o2);
                a20 += Avx512BW.MultiplyAddAdjacent(x2, w0);
                a21 += Avx512BW.MultiplyAddAdjacent(x2, w1);
                a22 += Avx512BW.MultiplyAddAdjacent(x2, w2);
                a23 += Avx512BW.MultiplyAddAdjacent(x2, w3);
                Vector512<short> x3 = Widen(p + o3);
                a30 += Avx512BW.MultiplyAddAdjacent(x3, w0);
                a31 += Avx512BW.MultiplyAddAdjacent(x3, w1);
                a32 += Avx512BW.MultiplyAddAdjacent(x3, w2);
                a33 += Avx512BW.MultiplyAddAdjacent(x3, w3);
            }
        }

        Vector512<int> i0 = Vector512.Load(init), i1 = Vector512.Load(init + ConvGeometry.Block);
        const int R = ConvGeometry.TileChannels, B = ConvGeometry.Block;
        Join(a00, a01, i0).Store(acc);
        Join(a02, a03, i1).Store(acc + B);
        if (pixels > 1)
        {
            Join(a10, a11, i0).Store(acc + R);
            Join(a12, a13, i1).Store(acc + R + B);
        }

        if (pixels > 2)
        {
            Join(a20, a21, i0).Store(acc + (2 * R));
            Join(a22, a23, i1).Store(acc + (2 * R) + B);
        }

        if (pixels > 3)
        {
            Join(a30, a31, i0).Store(acc + (3 * R));
            Join(a32, a33, i1).Store(acc + (3 * R) + B);
        }
    }

    /// <summary>Up to 4 pixels × 1 block (the last block of an odd count, e.g. the 12-channel RGB conv).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels4x16(ref ConvTile t, byte* w, int* init, byte* x, int* acc, int pixels)
    {
        Vector512<int> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector512<int> a20 = default, a21 = default, a30 = default, a31 = default;
        int s = t.PixelStride;
        int o1 = pixels > 1 ? s : 0, o2 = pixels > 2 ? 2 * s : 0, o3 = pixels > 3 ? 3 * s : 0;
        int groups = t.Groups;
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < groups; g++, p += 4, w += GroupBytes)
            {
                Vector512<short> w0 = Vector512.Load((short*)w), w1 = Vector512.Load((short*)(w + 64));
                Vector512<short> x0 = Widen(p), x1 = Widen(p + o1), x2 = Widen(p + o2), x3 = Widen(p + o3);
                a00 += Avx512BW.MultiplyAddAdjacent(x0, w0);
                a01 += Avx512BW.MultiplyAddAdjacent(x0, w1);
                a10 += Avx512BW.MultiplyAddAdjacent(x1, w0);
                a11 += Avx512BW.MultiplyAddAdjacent(x1, w1);
                a20 += Avx512BW.MultiplyAddAdjacent(x2, w0);
                a21 += Avx512BW.MultiplyAddAdjacent(x2, w1);
                a30 += Avx512BW.MultiplyAddAdjacent(x3, w0);
                a31 += Avx512BW.MultiplyAddAdjacent(x3, w1);
            }
        }

        Vector512<int> i0 = Vector512.Load(init);
        const int R = ConvGeometry.TileChannels;
        Join(a00, a01, i0).Store(acc);
        if (pixels > 1)
        {
            Join(a10, a11, i0).Store(acc + R);
        }

        if (pixels > 2)
        {
            Join(a20, a21, i0).Store(acc + (2 * R));
        }

        if (pixels > 3)
        {
            Join(a30, a31, i0).Store(acc + (3 * R));
        }
    }

    /// <summary>4 activation bytes → (x0, x1, x2, x3) as int16 in every quadword.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Widen(byte* p)
        => Avx512BW.ConvertToVector512Int16(Vector256.Create(Unsafe.ReadUnaligned<int>(p)).AsByte());

    /// <summary>
    /// Lanes (oc j, half h) = lane 2j + h of <paramref name="lo"/> (oc 0-7) and <paramref name="hi"/> (oc 8-15) →
    /// 16 consecutive output channels, plus the initial value (wrapping int32 adds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> Join(Vector512<int> lo, Vector512<int> hi, Vector512<int> init)
    {
        Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        return Avx512F.PermuteVar16x32x2(lo, even, hi) + Avx512F.PermuteVar16x32x2(lo, odd, hi) + init;
    }
}
