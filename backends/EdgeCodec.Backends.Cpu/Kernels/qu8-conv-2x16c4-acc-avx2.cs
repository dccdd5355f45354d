namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// u8 × s8 conv accumulation with AVX2, 2 pixels × 16 output channels, weights <see cref="WeightLayout.S16OcIc"/>.
/// </summary>
/// <remarks>
/// Exactness: the 4 activation bytes of a group are zero-extended to int16 (<c>vpmovzxbw</c> of a broadcast) and
/// multiplied with int16 weights by <c>vpmaddwd</c>, whose pair sums (≤ 2·255·128) cannot overflow int32. The
/// saturating <c>vpmaddubsw</c> is deliberately not used (255·127·2 &gt; 32767). Each accumulator lane holds half of
/// the channels of one output (ic 0-1 or 2-3); <c>vphaddd</c> joins the halves with wrap-around int32 adds, which
/// equals the reference's int32 sum.
/// </remarks>
internal static unsafe class QU8ConvAvx2
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref ConvTile t)
    {
        for (int b = 0; b < t.Blocks; b++)
        {
            byte* w = t.Weights + ((long)b * t.BlockStride);
            int* init = t.Init + (b * ConvGeometry.Block);
            int px = 0;
            for (; px + 2 <= t.Pixels; px += 2)
            {
                Pixels2(ref t, w, init, t.Input + ((long)px * t.PixelStride), t.Acc + (px * ConvGeometry.TileChannels) + (b * ConvGeometry.Block), 2);
            }

            if (px < t.Pixels)
            {
                Pixels2(ref t, w, init, t.Input + ((long)px * t.PixelStride), t.Acc + (px * ConvGeometry.TileChannels) + (b * ConvGeometry.Block), 1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels2(ref ConvTile t, byte* w, int* init, byte* x, int* acc, int pixels)
    {
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        // With one pixel the second lane re-reads the first pixel (always in bounds) and is discarded.
        int s = pixels == 2 ? t.PixelStride : 0;
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < t.Groups; g++, p += 4, w += 128)
            {
                Vector256<short> x0 = Avx2.ConvertToVector256Int16(Vector128.Create(Unsafe.ReadUnaligned<int>(p)).AsByte());
                Vector256<short> x1 = Avx2.ConvertToVector256Int16(Vector128.Create(Unsafe.ReadUnaligned<int>(p + s)).AsByte());
                Vector256<short> w0 = Vector256.Load((short*)w), w1 = Vector256.Load((short*)w + 16);
                Vector256<short> w2 = Vector256.Load((short*)w + 32), w3 = Vector256.Load((short*)w + 48);
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(x0, w0));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(x0, w1));
                a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(x0, w2));
                a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(x0, w3));
                c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(x1, w0));
                c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(x1, w1));
                c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(x1, w2));
                c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(x1, w3));
            }
        }

        Vector256<int> i0 = Vector256.Load(init), i1 = Vector256.Load(init + 8);
        Join(a0, a1, i0).Store(acc);
        Join(a2, a3, i1).Store(acc + 8);
        if (pixels == 2)
        {
            Join(c0, c1, i0).Store(acc + ConvGeometry.TileChannels);
            Join(c2, c3, i1).Store(acc + ConvGeometry.TileChannels + 8);
        }
    }

    /// <summary>Lane pairs (oc, half) of two registers → 8 consecutive output channels, plus the initial value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Join(Vector256<int> lo, Vector256<int> hi, Vector256<int> init)
        => Avx2.Add(Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0b11_01_10_00).AsInt32(), init);
}
