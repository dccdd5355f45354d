namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// u8 × s8 conv accumulation with Arm64 AdvSimd without dot product (Cortex-A72 class): 2 pixels × 16 output channels,
/// weights <see cref="WeightLayout.S16IcOc"/>, <c>smlal</c>/<c>smlal2</c> by element.
/// </summary>
/// <remarks>
/// Activations are zero-extended to int16 (<c>uxtl</c>) and weights stored as int16, so every product is an exact
/// int16 × int16 → int32 widening multiply-accumulate (wrap-around int32 sum, like the reference).
/// </remarks>
internal static unsafe class QU8ConvNeon
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Widen4(byte* p)
        => AdvSimd.ZeroExtendWideningLower(Vector64.CreateScalar(Unsafe.ReadUnaligned<uint>(p)).AsByte()).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels2(ref ConvTile t, byte* w, int* init, byte* x, int* acc, int pixels)
    {
        Vector128<int> i0 = Vector128.Load(init), i1 = Vector128.Load(init + 4), i2 = Vector128.Load(init + 8), i3 = Vector128.Load(init + 12);
        Vector128<int> a0 = i0, a1 = i1, a2 = i2, a3 = i3, c0 = i0, c1 = i1, c2 = i2, c3 = i3;
        // With one pixel the second lane re-reads the first pixel (always in bounds) and is discarded.
        int s = pixels == 2 ? t.PixelStride : 0;
        for (int tap = 0; tap < t.Taps; tap++)
        {
            byte* p = x + t.TapOffsets[tap];
            for (int g = 0; g < t.Groups; g++, p += 4, w += 128)
            {
                Vector128<short> x0 = Widen4(p), x1 = Widen4(p + s);
                short* ws = (short*)w;
                Step(ws, x0, x1, 0, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
                Step(ws + 16, x0, x1, 1, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
                Step(ws + 32, x0, x1, 2, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
                Step(ws + 48, x0, x1, 3, ref a0, ref a1, ref a2, ref a3, ref c0, ref c1, ref c2, ref c3);
            }
        }

        a0.Store(acc);
        a1.Store(acc + 4);
        a2.Store(acc + 8);
        a3.Store(acc + 12);
        if (pixels == 2)
        {
            int* acc1 = acc + ConvGeometry.TileChannels;
            c0.Store(acc1);
            c1.Store(acc1 + 4);
            c2.Store(acc1 + 8);
            c3.Store(acc1 + 12);
        }
    }

    /// <summary>Input channel <paramref name="ic"/> of the group: 16 weights (int16) times one activation lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Step(short* w, Vector128<short> x0, Vector128<short> x1, [ConstantExpected(Max = 3)] byte ic,
        ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3)
    {
        Vector128<short> wl = Vector128.Load(w), wh = Vector128.Load(w + 8);
        a0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a0, wl.GetLower(), x0, ic);
        a1 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a1, wl, x0, ic);
        a2 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a2, wh.GetLower(), x0, ic);
        a3 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a3, wh, x0, ic);
        c0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(c0, wl.GetLower(), x1, ic);
        c1 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(c1, wl, x1, ic);
        c2 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(c2, wh.GetLower(), x1, ic);
        c3 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(c3, wh, x1, ic);
    }
}
