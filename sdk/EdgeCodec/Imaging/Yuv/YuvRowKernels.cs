using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCodec.Imaging;

/// <summary>
/// One row of Y with its half-width U and V rows → interleaved RGB: the scalar reference and a 128-bit vector kernel
/// (SSE/AVX on x64, NEON on Arm64) that computes the same integers, 16 pixels a step, with the scalar reference for the
/// tail. The vector kernel's 32-bit products, sums, arithmetic shift and clamp are exactly the scalar ones (every term is
/// below 2^23 in magnitude, so no sum comes near 2^31), so the two agree on every input by construction;
/// <c>YuvConversionTests</c> checks it on random and extreme rows of every length. The choice is made once
/// (<see cref="Rgb24Vectors.Selected"/>).
/// </summary>
internal static class YuvRowKernels
{
    private const int Step = 16;

    /// <summary>Chroma for 16 pixels from 8 samples: each sample twice.</summary>
    private static readonly Vector128<byte> s_duplicate = Vector128.Create((byte)0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);

    /// <summary>Converts <c>rgb.Length / 3</c> pixels with the selected kernel.</summary>
    /// <param name="y">Luma, one sample per pixel.</param>
    /// <param name="u">Cb, one sample per two pixels (<c>(width + 1) / 2</c>).</param>
    /// <param name="v">Cr, as <paramref name="u"/>.</param>
    /// <param name="rgb">Receives the pixels.</param>
    /// <param name="c">The colour space's constants.</param>
    public static void ToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> u, ReadOnlySpan<byte> v, Span<byte> rgb, YuvCoefficients c)
    {
        int x = Rgb24Vectors.Selected ? ToRgbVector(y, u, v, rgb, c) : 0;
        ToRgbScalar(y[x..], u[(x / 2)..], v[(x / 2)..], rgb[(x * 3)..], c);
    }

    /// <summary>The scalar reference: every pixel of <c>rgb.Length / 3</c>.</summary>
    public static void ToRgbScalar(ReadOnlySpan<byte> y, ReadOnlySpan<byte> u, ReadOnlySpan<byte> v, Span<byte> rgb, YuvCoefficients c)
    {
        int width = rgb.Length / 3;
        for (int x = 0; x < width; x++)
        {
            int luma = ((y[x] - c.YOffset) * c.YGain) + YuvCoefficients.Half;
            int d = u[x >> 1] - 128, e = v[x >> 1] - 128;
            rgb[3 * x] = Clamp((luma + (c.VToR * e)) >> YuvCoefficients.Bits);
            rgb[(3 * x) + 1] = Clamp((luma - (c.UToG * d) - (c.VToG * e)) >> YuvCoefficients.Bits);
            rgb[(3 * x) + 2] = Clamp((luma + (c.UToB * d)) >> YuvCoefficients.Bits);
        }
    }

    /// <summary>The vector kernel over whole steps of 16 pixels; returns how many pixels it converted.</summary>
    internal static int ToRgbVector(ReadOnlySpan<byte> y, ReadOnlySpan<byte> u, ReadOnlySpan<byte> v, Span<byte> rgb, YuvCoefficients c)
    {
        int width = rgb.Length / 3;
        if (width < Step)
        {
            return 0;
        }

        // Slicing up front makes every access below provably in range.
        int steps = width / Step;
        y = y[..(steps * Step)];
        u = u[..(steps * Step / 2)];
        v = v[..(steps * Step / 2)];
        rgb = rgb[..(steps * Step * 3)];
        ref byte yRef = ref MemoryMarshal.GetReference(y);
        ref byte uRef = ref MemoryMarshal.GetReference(u);
        ref byte vRef = ref MemoryMarshal.GetReference(v);
        ref byte outRef = ref MemoryMarshal.GetReference(rgb);
        var offset = Vector128.Create(c.YOffset);
        var gain = Vector128.Create(c.YGain);
        var half = Vector128.Create(YuvCoefficients.Half);
        var bias = Vector128.Create(128);
        var vToR = Vector128.Create(c.VToR);
        var uToG = Vector128.Create(c.UToG);
        var vToG = Vector128.Create(c.VToG);
        var uToB = Vector128.Create(c.UToB);
        for (int s = 0; s < steps; s++)
        {
            var luma = Vector128.LoadUnsafe(ref yRef, (nuint)(s * Step));
            var cb = Vector128.Shuffle(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref uRef, s * Step / 2))).AsByte(), s_duplicate);
            var cr = Vector128.Shuffle(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref vRef, s * Step / 2))).AsByte(), s_duplicate);
            var (y0, y1, y2, y3) = Rgb24Vectors.Widen(luma);
            var (u0, u1, u2, u3) = Rgb24Vectors.Widen(cb);
            var (v0, v1, v2, v3) = Rgb24Vectors.Widen(cr);
            var (r0, g0, b0) = Pixels(y0, u0, v0);
            var (r1, g1, b1) = Pixels(y1, u1, v1);
            var (r2, g2, b2) = Pixels(y2, u2, v2);
            var (r3, g3, b3) = Pixels(y3, u3, v3);
            Rgb24Vectors.Store(Rgb24Vectors.Narrow(r0, r1, r2, r3), Rgb24Vectors.Narrow(g0, g1, g2, g3), Rgb24Vectors.Narrow(b0, b1, b2, b3),
                ref outRef, s * Step * 3);
        }

        return steps * Step;

        (Vector128<int> R, Vector128<int> G, Vector128<int> B) Pixels(Vector128<int> yv, Vector128<int> uv, Vector128<int> vv)
        {
            var l = ((yv - offset) * gain) + half;
            var d = uv - bias;
            var e = vv - bias;
            return (
                Vector128.ShiftRightArithmetic(l + (vToR * e), YuvCoefficients.Bits),
                Vector128.ShiftRightArithmetic(l - (uToG * d) - (vToG * e), YuvCoefficients.Bits),
                Vector128.ShiftRightArithmetic(l + (uToB * d), YuvCoefficients.Bits));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clamp(int value) => (byte)Math.Clamp(value, 0, 255);
}
