namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The 16 small GEMMs of a Winograd F(2×2, 3×3) strip with Arm64 AdvSimd without dot product (Cortex-A72 /
/// Raspberry Pi 4 class): 2 tiles × 16 output channels on 8 accumulators, <c>smlal</c>/<c>smlal2</c> by element,
/// weights <c>[4 ic][16 oc]</c> int16 (<see cref="WeightLayout.S16IcOc"/>).
/// </summary>
/// <remarks>
/// Same contract and exactness argument as <see cref="QS16WinoGemmAvx512Bw"/>: int16 × int16 → int32 widening
/// products (|v·u| ≤ 1.18·10^6), wrapping int32 sums. Each lane holds the whole input-channel sum of one output
/// channel, so nothing is joined afterwards.
/// </remarks>
internal static unsafe class QS16WinoGemmNeon
{
    /// <inheritdoc cref="QS16WinoGemmAvx512Bw.Run"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(short* w, long blockStride, short* v, long vTileStride, int tiles, int groups, bool pair, int* m)
        => WinogradConv.Gemm2x16(w, blockStride, v, vTileStride, tiles, groups, pair, m, &Tiles2x16);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles2x16(short* w, short* v, long v1, int tiles, int groups, int* m)
    {
        Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int g = 0; g < groups; g++, v += 4, w += 64)
        {
            Vector128<short> x0 = Vector128.CreateScalar(*(long*)v).AsInt16(), x1 = Vector128.CreateScalar(*(long*)(v + v1)).AsInt16();
            QU8ConvNeon.Step(w, x0, x1, 0, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
            QU8ConvNeon.Step(w + 16, x0, x1, 1, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
            QU8ConvNeon.Step(w + 32, x0, x1, 2, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
            QU8ConvNeon.Step(w + 48, x0, x1, 3, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
        }

        a0.Store(m);
        a1.Store(m + 4);
        a2.Store(m + 8);
        a3.Store(m + 12);
        if (tiles > 1)
        {
            int* m1 = m + ConvGeometry.TileChannels;
            c0.Store(m1);
            c1.Store(m1 + 4);
            c2.Store(m1 + 8);
            c3.Store(m1 + 12);
        }
    }
}
