namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The 16 small GEMMs of a Winograd F(2×2, 3×3) strip with AVX2: 2 tiles × 16 output channels per inner step on 8 ymm
/// accumulators (the 16 VEX registers also hold 4 weight vectors and the 2 activation broadcasts). Same contract,
/// layouts and exactness argument as <see cref="QS16WinoGemmAvx512Bw"/>.
/// </summary>
internal static unsafe class QS16WinoGemmAvx2
{
    /// <inheritdoc cref="QS16WinoGemmAvx512Bw.Run"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(short* w, long blockStride, short* v, long vTileStride, int tiles, int groups, bool pair, int* m)
        => WinogradConv.Gemm2x16(w, blockStride, v, vTileStride, tiles, groups, pair, m, &Tiles2x16);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles2x16(short* w, short* v, long v1, int tiles, int groups, int* m)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int g = 0; g < groups; g++, v += 4, w += 64)
        {
            Vector256<short> w0 = Vector256.Load(w), w1 = Vector256.Load(w + 16), w2 = Vector256.Load(w + 32), w3 = Vector256.Load(w + 48);
            Vector256<short> x0 = Vector256.Create(*(long*)v).AsInt16(), x1 = Vector256.Create(*(long*)(v + v1)).AsInt16();
            a0 += Avx2.MultiplyAddAdjacent(x0, w0);
            a1 += Avx2.MultiplyAddAdjacent(x0, w1);
            a2 += Avx2.MultiplyAddAdjacent(x0, w2);
            a3 += Avx2.MultiplyAddAdjacent(x0, w3);
            c0 += Avx2.MultiplyAddAdjacent(x1, w0);
            c1 += Avx2.MultiplyAddAdjacent(x1, w1);
            c2 += Avx2.MultiplyAddAdjacent(x1, w2);
            c3 += Avx2.MultiplyAddAdjacent(x1, w3);
        }

        Join(a0, a1).Store(m);
        Join(a2, a3).Store(m + 8);
        if (tiles > 1)
        {
            Join(c0, c1).Store(m + ConvGeometry.TileChannels);
            Join(c2, c3).Store(m + ConvGeometry.TileChannels + 8);
        }
    }

    /// <summary>Lane pairs (oc, half) of two registers (4 oc each) → 8 consecutive output channels (wrapping adds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Join(Vector256<int> lo, Vector256<int> hi) => QU8ConvAvx2.Join(lo, hi, Vector256<int>.Zero);
}
