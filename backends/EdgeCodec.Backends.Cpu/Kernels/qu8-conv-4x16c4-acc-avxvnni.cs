namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// u8 × s8 conv accumulation with <c>vpdpbusd</c> (AVX-VNNI, 256-bit): 4 pixels × 16 output channels per inner step,
/// weights <see cref="WeightLayout.S8OcIc"/>, activations broadcast 4 channels at a time.
/// </summary>
/// <remarks>
/// <c>vpdpbusd</c> is the NON-saturating form: each lane adds four exact u8·s8 products (|·| ≤ 4·255·128 &lt; 2^31) to
/// the int32 accumulator with wrap-around, so the sum equals the reference's int32 sum bit for bit.
/// </remarks>
internal static unsafe class QU8ConvAvxVnni
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels4(ref ConvTile t, byte* w, int* init, byte* x, int* acc)
    {
        Vector256<int> i0 = Vector256.Load(init), i1 = Vector256.Load(init + 8);
        Vector256<int> a00 = i0, a01 = i1, a10 = i0, a11 = i1, a20 = i0, a21 = i1, a30 = i0, a31 = i1;
        int s = t.PixelStride, groups = t.Groups;
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < groups; g++, p += 4, w += 64)
            {
                Vector256<sbyte> w0 = Vector256.Load((sbyte*)w), w1 = Vector256.Load((sbyte*)w + 32);
                Vector256<byte> x0 = Vector256.Create(Unsafe.ReadUnaligned<int>(p)).AsByte();
                Vector256<byte> x1 = Vector256.Create(Unsafe.ReadUnaligned<int>(p + s)).AsByte();
                a00 = AvxVnni.MultiplyWideningAndAdd(a00, x0, w0);
                a01 = AvxVnni.MultiplyWideningAndAdd(a01, x0, w1);
                a10 = AvxVnni.MultiplyWideningAndAdd(a10, x1, w0);
                a11 = AvxVnni.MultiplyWideningAndAdd(a11, x1, w1);
                Vector256<byte> x2 = Vector256.Create(Unsafe.ReadUnaligned<int>(p + (2 * s))).AsByte();
                Vector256<byte> x3 = Vector256.Create(Unsafe.ReadUnaligned<int>(p + (3 * s))).AsByte();
                a20 = AvxVnni.MultiplyWideningAndAdd(a20, x2, w0);
                a21 = AvxVnni.MultiplyWideningAndAdd(a21, x2, w1);
                a30 = AvxVnni.MultiplyWideningAndAdd(a30, x3, w0);
                a31 = AvxVnni.MultiplyWideningAndAdd(a31, x3, w1);
            }
        }

        const int R = ConvGeometry.TileChannels;
        a00.Store(acc);
        a01.Store(acc + 8);
        a10.Store(acc + R);
        a11.Store(acc + R + 8);
        a20.Store(acc + (2 * R));
        a21.Store(acc + (2 * R) + 8);
        a30.Store(acc + (3 * R));
        a31.Store(acc + (3 * R) + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels1(ref ConvTile t, byte* w, int* init, byte* x, int* acc)
    {
        Vector256<int> a0 = Vector256.Load(init), a1 = Vector256.Load(init + 8);
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < t.Groups; g++, p += 4, w += 64)
            {
                Vector256<byte> x0 = Vector256.Create(Unsafe.ReadUnaligned<int>(p)).AsByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, x0, Vector256.Load((sbyte*)w));
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, x0, Vector256.Load((sbyte*)w + 32));
            }
        }

        a0.Store(acc);
        a1.Store(acc + 8);
    }
}
