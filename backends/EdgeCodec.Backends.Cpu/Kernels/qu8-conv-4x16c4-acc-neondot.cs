namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// u8 × s8 conv accumulation with Arm64 <c>sdot</c>: 4 pixels × 16 output channels, weights
/// <see cref="WeightLayout.S8OcIc"/>.
/// </summary>
/// <remarks>
/// <c>sdot</c> is signed × signed, so activations are read as <c>x' = x ^ 0x80 = x - 128</c> (exact in int8) and
/// <c>Σ x·w = Σ x'·w + 128·Σ w</c>; the packer folds <c>128·Σ w</c> (wrapping int32) into the initial accumulator
/// (<see cref="KernelTable.OffsetActivations"/>), so the int32 sum equals the reference's bit for bit.
/// </remarks>
internal static unsafe class QU8ConvNeonDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref ConvTile t)
    {
        for (int b = 0; b < t.Blocks; b++)
        {
            byte* w = t.Weights + ((long)b * t.BlockStride);
            int* init = t.Init + (b * ConvGeometry.Block);
            int px = 0;
            for (; px + 4 <= t.Pixels; px += 4)
            {
                Pixels4(ref t, w, init, t.Input + ((long)px * t.PixelStride), t.Acc + (px * ConvGeometry.TileChannels) + (b * ConvGeometry.Block));
            }

            for (; px < t.Pixels; px++)
            {
                Pixels1(ref t, w, init, t.Input + ((long)px * t.PixelStride), t.Acc + (px * ConvGeometry.TileChannels) + (b * ConvGeometry.Block));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Broadcast(byte* p)
        => (Vector128.Create(Unsafe.ReadUnaligned<uint>(p)) ^ Vector128.Create(0x80808080u)).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels4(ref ConvTile t, byte* w, int* init, byte* x, int* acc)
    {
        Vector128<int> i0 = Vector128.Load(init), i1 = Vector128.Load(init + 4), i2 = Vector128.Load(init + 8), i3 = Vector128.Load(init + 12);
        Vector128<int> a00 = i0, a01 = i1, a02 = i2, a03 = i3, a10 = i0, a11 = i1, a12 = i2, a13 = i3;
        Vector128<int> a20 = i0, a21 = i1, a22 = i2, a23 = i3, a30 = i0, a31 = i1, a32 = i2, a33 = i3;
        int s = t.PixelStride;
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < t.Groups; g++, p += 4, w += 64)
            {
                Vector128<sbyte> w0 = Vector128.Load((sbyte*)w), w1 = Vector128.Load((sbyte*)w + 16);
                Vector128<sbyte> w2 = Vector128.Load((sbyte*)w + 32), w3 = Vector128.Load((sbyte*)w + 48);
                Vector128<sbyte> x0 = Broadcast(p), x1 = Broadcast(p + s), x2 = Broadcast(p + (2 * s)), x3 = Broadcast(p + (3 * s));
                a00 = Dp.DotProduct(a00, x0, w0);
                a01 = Dp.DotProduct(a01, x0, w1);
                a02 = Dp.DotProduct(a02, x0, w2);
                a03 = Dp.DotProduct(a03, x0, w3);
                a10 = Dp.DotProduct(a10, x1, w0);
                a11 = Dp.DotProduct(a11, x1, w1);
                a12 = Dp.DotProduct(a12, x1, w2);
                a13 = Dp.DotProduct(a13, x1, w3);
                a20 = Dp.DotProduct(a20, x2, w0);
                a21 = Dp.DotProduct(a21, x2, w1);
                a22 = Dp.DotProduct(a22, x2, w2);
                a23 = Dp.DotProduct(a23, x2, w3);
                a30 = Dp.DotProduct(a30, x3, w0);
                a31 = Dp.DotProduct(a31, x3, w1);
                a32 = Dp.DotProduct(a32, x3, w2);
                a33 = Dp.DotProduct(a33, x3, w3);
            }
        }

        const int R = ConvGeometry.TileChannels;
        Store4(acc, a00, a01, a02, a03);
        Store4(acc + R, a10, a11, a12, a13);
        Store4(acc + (2 * R), a20, a21, a22, a23);
        Store4(acc + (3 * R), a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels1(ref ConvTile t, byte* w, int* init, byte* x, int* acc)
    {
        Vector128<int> a0 = Vector128.Load(init), a1 = Vector128.Load(init + 4), a2 = Vector128.Load(init + 8), a3 = Vector128.Load(init + 12);
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < t.Groups; g++, p += 4, w += 64)
            {
                Vector128<sbyte> x0 = Broadcast(p);
                a0 = Dp.DotProduct(a0, x0, Vector128.Load((sbyte*)w));
                a1 = Dp.DotProduct(a1, x0, Vector128.Load((sbyte*)w + 16));
                a2 = Dp.DotProduct(a2, x0, Vector128.Load((sbyte*)w + 32));
                a3 = Dp.DotProduct(a3, x0, Vector128.Load((sbyte*)w + 48));
            }
        }

        Store4(acc, a0, a1, a2, a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(int* acc, Vector128<int> a0, Vector128<int> a1, Vector128<int> a2, Vector128<int> a3)
    {
        a0.Store(acc);
        a1.Store(acc + 4);
        a2.Store(acc + 8);
        a3.Store(acc + 12);
    }
}
