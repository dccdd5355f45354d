namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The 16 small GEMMs of a Winograd F(2×2, 3×3) strip with AVX-512BW: for each of the 16 transform positions,
/// <c>M[pos][tile][oc] = Σ_ic V[tile][pos][ic] · U[pos][ic][oc]</c> over up to 4 tiles × 32 output channels on 16 zmm
/// accumulators. V (transformed activations, |v| ≤ 1020) and U (4× the transformed weights, |u| ≤ 1152) are int16.
/// </summary>
/// <remarks>
/// Each group of 4 int16 activations is one quadword broadcast straight from memory (no shuffle); <c>vpmaddwd</c>
/// against <see cref="WeightLayout.S16OcIc"/>-shaped weights leaves ic 0-1 and ic 2-3 in neighbouring lanes, joined
/// once per GEMM as in <see cref="QU8ConvAvx512Bw"/>. Products (≤ 1.18·10^6) and pair sums cannot overflow int32; all
/// later adds wrap modulo 2^32, which <see cref="WinogradConv"/> shows is enough for an exact result.
/// </remarks>
internal static unsafe class QS16WinoGemmAvx512Bw
{
    /// <param name="w">Packed U of this position and the first block (blocks <c>Groups·64</c> int16 apart).</param>
    /// <param name="v">V of tile 0 at this position; tiles are <paramref name="vTileStride"/> int16 apart.</param>
    /// <param name="m">Receives <c>[tile][16 or 32 oc]</c> int32 with a tile stride of <see cref="ConvGeometry.TileChannels"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(short* w, long blockStride, short* v, long vTileStride, int tiles, int groups, bool pair, int* m)
    {
        long v1 = tiles > 1 ? vTileStride : 0, v2 = tiles > 2 ? 2 * vTileStride : 0, v3 = tiles > 3 ? 3 * vTileStride : 0;
        if (pair)
        {
            Tiles4x32(w, blockStride, v, v1, v2, v3, tiles, groups, m);
        }
        else
        {
            Tiles4x16(w, v, v1, v2, v3, tiles, groups, m);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles4x32(short* w, long wb, short* v, long v1, long v2, long v3, int tiles, int groups, int* m)
    {
        Vector512<int> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<int> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<int> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<int> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int g = 0; g < groups; g++, v += 4, w += 64)
        {
            Vector512<short> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 32);
            Vector512<short> w2 = Vector512.Load(w + wb), w3 = Vector512.Load(w + wb + 32);
            Vector512<short> x0 = Vector512.Create(*(long*)v).AsInt16();
            a00 += Avx512BW.MultiplyAddAdjacent(x0, w0);
            a01 += Avx512BW.MultiplyAddAdjacent(x0, w1);
            a02 += Avx512BW.MultiplyAddAdjacent(x0, w2);
            a03 += Avx512BW.MultiplyAddAdjacent(x0, w3);
            Vector512<short> x1 = Vector512.Create(*(long*)(v + v1)).AsInt16();
            a10 += Avx512BW.MultiplyAddAdjacent(x1, w0);
            a11 += Avx512BW.MultiplyAddAdjacent(x1, w1);
            a12 += Avx512BW.MultiplyAddAdjacent(x1, w2);
            a13 += Avx512BW.MultiplyAddAdjacent(x1, w3);
            Vector512<short> x2 = Vector512.Create(*(long*)(v + v2)).AsInt16();
            a20 += Avx512BW.MultiplyAddAdjacent(x2, w0);
            a21 += Avx512BW.MultiplyAddAdjacent(x2, w1);
            a22 += Avx512BW.MultiplyAddAdjacent(x2, w2);
            a23 += Avx512BW.MultiplyAddAdjacent(x2, w3);
            Vector512<short> x3 = Vector512.Create(*(long*)(v + v3)).AsInt16();
            a30 += Avx512BW.MultiplyAddAdjacent(x3, w0);
            a31 += Avx512BW.MultiplyAddAdjacent(x3, w1);
            a32 += Avx512BW.MultiplyAddAdjacent(x3, w2);
            a33 += Avx512BW.MultiplyAddAdjacent(x3, w3);
        }

        const int R = ConvGeometry.TileChannels, B = ConvGeometry.Block;
        Join(a00, a01).Store(m);
        Join(a02, a03).Store(m + B);
        if (tiles > 1)
        {
            Join(a10, a11).Store(m + R);
            Join(a12, a13).Store(m + R + B);
        }

        if (tiles > 2)
        {
            Join(a20, a21).Store(m + (2 * R));
            Join(a22, a23).Store(m + (2 * R) + B);
        }

        if (tiles > 3)
        {
            Join(a30, a31).Store(m + (3 * R));
            Join(a32, a33).Store(m + (3 * R) + B);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles4x16(short* w, short* v, long v1, long v2, long v3, int tiles, int groups, int* m)
    {
        Vector512<int> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector512<int> a20 = default, a21 = default, a30 = default, a31 = default;
        for (int g = 0; g < groups; g++, v += 4, w += 64)
        {
            Vector512<short> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 32);
            Vector512<short> x0 = Vector512.Create(*(long*)v).AsInt16(), x1 = Vector512.Create(*(long*)(v + v1)).AsInt16();
            Vector512<short> x2 = Vector512.Create(*(long*)(v + v2)).AsInt16(), x3 = Vector512.Create(*(long*)(v + v3)).AsInt16();
            a00 += Avx512BW.MultiplyAddAdjacent(x0, w0);
            a01 += Avx512BW.MultiplyAddAdjacent(x0, w1);
            a10 += Avx512BW.MultiplyAddAdjacent(x1, w0);
            a11 += Avx512BW.MultiplyAddAdjacent(x1, w1);
            a20 += Avx512BW.MultiplyAddAdjacent(x2, w0);
            a21 += Avx512BW.MultiplyAddAdjacent(x2, w1);
            a30 += Avx512BW.MultiplyAddAdjacent(x3, w0);
            a31 += Avx512BW.MultiplyAddAdjacent(x3, w1);
        }

        const int R = ConvGeometry.TileChannels;
        Join(a00, a01).Store(m);
        if (tiles > 1)
        {
            Join(a10, a11).Store(m + R);
        }

        if (tiles > 2)
        {
            Join(a20, a21).Store(m + (2 * R));
        }

        if (tiles > 3)
        {
            Join(a30, a31).Store(m + (3 * R));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Join(Vector512<int> lo, Vector512<int> hi) => QU8ConvAvx512Bw.Join(lo, hi, Vector512<int>.Zero);
}
