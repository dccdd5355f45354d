using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCodec.Imaging;

/// <summary>
/// Interleaved RGB rows → Y, and pairs of rows → subsampled U and V: scalar references and 128-bit vector kernels
/// (16 pixels a step; SSE/AVX on x64, NEON on Arm64) that compute the same integers, with the scalar reference for the
/// tail. A chroma sample is the rounded mean of its 2×2 block's weighted sums; a block cut by the picture's edge repeats
/// its last column or row, which gives exactly the mean of the pixels it has (the sum doubles with the count, and the
/// rounding shift grows by one). Both chroma kernels sum each channel over the block, then weight the sums (integer
/// arithmetic is exact, so that is the sum of the pixels' weighted values). <c>YuvConversionTests</c> compares the
/// kernels on random and extreme rows of every length. The choice is made once (<see cref="Rgb24Vectors.Selected"/>).
/// </summary>
internal static class RgbToYuvKernels
{
    private const int Step = 16;

    /// <summary>Luma of one row with the selected kernel.</summary>
    /// <param name="rgb">Interleaved RGB, <c>3 × width</c> bytes.</param>
    /// <param name="y">Receives <c>width</c> samples.</param>
    /// <param name="c">The colour space's constants.</param>
    public static void Luma(ReadOnlySpan<byte> rgb, Span<byte> y, YuvCoefficients c)
    {
        int x = Rgb24Vectors.Selected ? LumaVector(rgb, y, c) : 0;
        LumaScalar(rgb[(3 * x)..], y[x..], c);
    }

    /// <summary>The scalar reference: <c>y.Length</c> samples.</summary>
    public static void LumaScalar(ReadOnlySpan<byte> rgb, Span<byte> y, YuvCoefficients c)
    {
        var (wr, wg, wb) = c.ToY;
        for (int x = 0; x < y.Length; x++)
        {
            int sum = (rgb[3 * x] * wr) + (rgb[(3 * x) + 1] * wg) + (rgb[(3 * x) + 2] * wb) + YuvCoefficients.Half;
            y[x] = (byte)Math.Clamp(c.YOffset + (sum >> YuvCoefficients.Bits), 0, 255);
        }
    }

    /// <summary>Chroma of two rows (the same row twice for 4:2:2, or for an odd height's last row) with the selected kernel.</summary>
    /// <param name="top">The block's upper row, interleaved RGB.</param>
    /// <param name="bottom">Its lower row, as long.</param>
    /// <param name="u">Receives <c>(width + 1) / 2</c> Cb samples.</param>
    /// <param name="v">Receives as many Cr samples.</param>
    /// <param name="c">The colour space's constants.</param>
    public static void Chroma(ReadOnlySpan<byte> top, ReadOnlySpan<byte> bottom, Span<byte> u, Span<byte> v, YuvCoefficients c)
    {
        int x = Rgb24Vectors.Selected ? ChromaVector(top, bottom, u, v, c) : 0;
        ChromaScalar(top[(3 * x)..], bottom[(3 * x)..], u[(x / 2)..], v[(x / 2)..], c);
    }

    /// <summary>The scalar reference: every chroma sample of the rows (<c>top.Length / 3</c> pixels each).</summary>
    public static void ChromaScalar(ReadOnlySpan<byte> top, ReadOnlySpan<byte> bottom, Span<byte> u, Span<byte> v, YuvCoefficients c)
    {
        int width = top.Length / 3;
        for (int cx = 0; cx < (width + 1) / 2; cx++)
        {
            int p0 = 6 * cx, p1 = 3 * Math.Min((2 * cx) + 1, width - 1); // an odd width's last block repeats its column
            int r = top[p0] + top[p1] + bottom[p0] + bottom[p1];
            int g = top[p0 + 1] + top[p1 + 1] + bottom[p0 + 1] + bottom[p1 + 1];
            int b = top[p0 + 2] + top[p1 + 2] + bottom[p0 + 2] + bottom[p1 + 2];
            u[cx] = ChromaByte((r * c.ToU.R) + (g * c.ToU.G) + (b * c.ToU.B));
            v[cx] = ChromaByte((r * c.ToV.R) + (g * c.ToV.G) + (b * c.ToV.B));
        }
    }

    /// <summary>The vector luma kernel over whole steps of 16 pixels; returns how many pixels it converted.</summary>
    internal static int LumaVector(ReadOnlySpan<byte> rgb, Span<byte> y, YuvCoefficients c)
    {
        int steps = y.Length / Step;
        if (steps == 0)
        {
            return 0;
        }

        rgb = rgb[..(steps * Step * 3)];
        y = y[..(steps * Step)];
        ref byte src = ref MemoryMarshal.GetReference(rgb);
        ref byte dst = ref MemoryMarshal.GetReference(y);
        var wr = Vector128.Create(c.ToY.R);
        var wg = Vector128.Create(c.ToY.G);
        var wb = Vector128.Create(c.ToY.B);
        var half = Vector128.Create(YuvCoefficients.Half);
        var offset = Vector128.Create(c.YOffset);
        for (int s = 0; s < steps; s++)
        {
            var (r, g, b) = Rgb24Vectors.Load(ref src, s * Step * 3);
            var (r0, r1, r2, r3) = Rgb24Vectors.Widen(r);
            var (g0, g1, g2, g3) = Rgb24Vectors.Widen(g);
            var (b0, b1, b2, b3) = Rgb24Vectors.Widen(b);
            Rgb24Vectors.Narrow(Luma(r0, g0, b0), Luma(r1, g1, b1), Luma(r2, g2, b2), Luma(r3, g3, b3)).StoreUnsafe(ref dst, (nuint)(s * Step));
        }

        return steps * Step;

        Vector128<int> Luma(Vector128<int> r, Vector128<int> g, Vector128<int> b) =>
            offset + Vector128.ShiftRightArithmetic((r * wr) + (g * wg) + (b * wb) + half, YuvCoefficients.Bits);
    }

    /// <summary>The vector chroma kernel over whole steps of 16 pixels (8 samples); returns how many pixels it covered.</summary>
    internal static int ChromaVector(ReadOnlySpan<byte> top, ReadOnlySpan<byte> bottom, Span<byte> u, Span<byte> v, YuvCoefficients c)
    {
        int steps = top.Length / 3 / Step;
        if (steps == 0)
        {
            return 0;
        }

        top = top[..(steps * Step * 3)];
        bottom = bottom[..(steps * Step * 3)];
        u = u[..(steps * Step / 2)];
        v = v[..(steps * Step / 2)];
        ref byte a = ref MemoryMarshal.GetReference(top);
        ref byte b = ref MemoryMarshal.GetReference(bottom);
        ref byte uOut = ref MemoryMarshal.GetReference(u);
        ref byte vOut = ref MemoryMarshal.GetReference(v);
        var (ur, ug, ub) = (Vector128.Create(c.ToU.R), Vector128.Create(c.ToU.G), Vector128.Create(c.ToU.B));
        var (vr, vg, vb) = (Vector128.Create(c.ToV.R), Vector128.Create(c.ToV.G), Vector128.Create(c.ToV.B));
        var rounding = Vector128.Create(4 * YuvCoefficients.Half);
        var bias = Vector128.Create(128);
        for (int s = 0; s < steps; s++)
        {
            var (ra, ga, ba) = Rgb24Vectors.Load(ref a, s * Step * 3);
            var (rb, gb, bb) = Rgb24Vectors.Load(ref b, s * Step * 3);
            var (r0, r1) = BlockSums(ra, rb);
            var (g0, g1) = BlockSums(ga, gb);
            var (b0, b1) = BlockSums(ba, bb);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref uOut, s * Step / 2), Rgb24Vectors.Narrow(Sample(r0, g0, b0, ur, ug, ub), Sample(r1, g1, b1, ur, ug, ub)));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref vOut, s * Step / 2), Rgb24Vectors.Narrow(Sample(r0, g0, b0, vr, vg, vb), Sample(r1, g1, b1, vr, vg, vb)));
        }

        return steps * Step;

        Vector128<int> Sample(Vector128<int> r, Vector128<int> g, Vector128<int> bl, Vector128<int> wr, Vector128<int> wg, Vector128<int> wb) =>
            bias + Vector128.ShiftRightArithmetic((r * wr) + (g * wg) + (bl * wb) + rounding, YuvCoefficients.Bits + 2);
    }

    /// <summary>One channel's sums over the eight 2×2 blocks of 16 pixels of two rows: two vectors of four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int>, Vector128<int>) BlockSums(Vector128<byte> top, Vector128<byte> bottom)
    {
        var (topLo, topHi) = Vector128.Widen(top);
        var (bottomLo, bottomHi) = Vector128.Widen(bottom);
        var mask = Vector128.Create(0xFFFFu);

        // Each 32-bit lane holds one horizontal pair of 16-bit column sums (at most 510 each): adding its halves sums the block.
        var lo = (topLo + bottomLo).AsUInt32();
        var hi = (topHi + bottomHi).AsUInt32();
        return (((lo & mask) + (lo >> 16)).AsInt32(), ((hi & mask) + (hi >> 16)).AsInt32());
    }

    /// <summary>128 plus the rounded mean of a block's four weighted sums, clamped.</summary>
    private static byte ChromaByte(int sum) =>
        (byte)Math.Clamp(128 + ((sum + (4 * YuvCoefficients.Half)) >> (YuvCoefficients.Bits + 2)), 0, 255);
}
