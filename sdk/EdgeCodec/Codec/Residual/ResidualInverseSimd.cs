using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCodec.Codec.Residual;

/// <summary>
/// The residual layer's inverse transform on 128-bit vectors (SSE4.1 / AVX on x64, NEON on Arm64): the same integers as
/// <see cref="ResidualTransform.InverseBlock"/>, the scalar reference, for every input. A block row of 16 samples is
/// four vectors; both passes broadcast one coefficient (or one cosine) and multiply-add it into a row, so a zero
/// coefficient is skipped outright. Sums are 32-bit and wrap exactly like the scalar ones (they cannot overflow: every
/// term is below 2^15 · 2^12 and there are 16), and their order does not change an integer sum, so the results are
/// identical by construction; <c>ResidualInverseSimdTests</c> checks it on random and extreme blocks.
/// </summary>
internal static class ResidualInverseSimd
{
    /// <summary>Whether <see cref="ResidualTransform.Apply(ReadOnlySpan{int}, int, ValueTuple{int, int, int, int}, Imaging.RgbImage)"/> uses this kernel: chosen once, when 128-bit vectors are hardware-accelerated.</summary>
    public static readonly bool IsSelected = Vector128.IsHardwareAccelerated;

    private const int N = ResidualTransform.Block;
    private const int Plane = N * N;
    private const int Bits = ResidualTransform.ConstantBits;
    private const int Round = 1 << (Bits - 1);

    /// <summary><see cref="ResidualTransform.Cos"/> widened to 32 bits (row k = frequency, 16 samples each).</summary>
    private static readonly int[] Cos = [.. ResidualTransform.Cos.ToArray().Select(c => (int)c)];

    /// <summary>The inverse of one block: quantised values (768) times <paramref name="stepQ2"/> → RGB correction (768), as <see cref="ResidualTransform.InverseBlock"/>.</summary>
    public static void InverseBlock(ReadOnlySpan<int> q, int stepQ2, Span<int> rgb)
    {
        if (q.Length < ResidualTransform.Coefficients || rgb.Length < ResidualTransform.Coefficients)
        {
            throw new ArgumentException("A block has 768 values.");
        }

        Span<int> t = stackalloc int[Plane];
        Span<int> s = stackalloc int[ResidualTransform.Coefficients];
        Span<int> rows = stackalloc int[N];
        ref int cos = ref MemoryMarshal.GetArrayDataReference(Cos);
        ref int tRef = ref MemoryMarshal.GetReference(t);
        ref int sRef = ref MemoryMarshal.GetReference(s);
        var lo = Vector128.Create(-ResidualTransform.Limit);
        var hi = Vector128.Create(ResidualTransform.Limit);
        var round = Vector128.Create(Round);
        for (int p = 0; p < 3; p++)
        {
            ReadOnlySpan<int> qp = q.Slice(p * Plane, Plane);
            int used = 0;
            for (int k = 0; k < N; k++)
            {
                ReadOnlySpan<int> row = qp.Slice(k * N, N);
                if (!row.ContainsAnyExcept(0))
                {
                    continue;
                }

                // Rows: t[k][x] = Σ_l c[k][l] · C[l][x], one broadcast coefficient times a basis row at a time.
                Vector128<int> a0 = round, a1 = round, a2 = round, a3 = round;
                for (int l = 0; l < N; l++)
                {
                    int v = row[l];
                    if (v == 0)
                    {
                        continue;
                    }

                    var c = Vector128.Create(Math.Clamp(Math.Clamp(v, -ResidualTransform.MaxSymbol, ResidualTransform.MaxSymbol) * stepQ2, -ResidualTransform.Limit, ResidualTransform.Limit));
                    ref int basis = ref Unsafe.Add(ref cos, l * N);
                    a0 += c * Vector128.LoadUnsafe(ref basis);
                    a1 += c * Vector128.LoadUnsafe(ref basis, 4);
                    a2 += c * Vector128.LoadUnsafe(ref basis, 8);
                    a3 += c * Vector128.LoadUnsafe(ref basis, 12);
                }

                ref int tk = ref Unsafe.Add(ref tRef, k * N);
                Clamp(a0 >> Bits, lo, hi).StoreUnsafe(ref tk);
                Clamp(a1 >> Bits, lo, hi).StoreUnsafe(ref tk, 4);
                Clamp(a2 >> Bits, lo, hi).StoreUnsafe(ref tk, 8);
                Clamp(a3 >> Bits, lo, hi).StoreUnsafe(ref tk, 12);
                rows[used++] = k;
            }

            // Columns: s[y][x] = Σ_k C[k][y] · t[k][x] over the rows that hold a value.
            for (int y = 0; y < N; y++)
            {
                Vector128<int> a0 = round, a1 = round, a2 = round, a3 = round;
                for (int i = 0; i < used; i++)
                {
                    int k = rows[i];
                    var c = Vector128.Create(Unsafe.Add(ref cos, (k * N) + y));
                    ref int tk = ref Unsafe.Add(ref tRef, k * N);
                    a0 += c * Vector128.LoadUnsafe(ref tk);
                    a1 += c * Vector128.LoadUnsafe(ref tk, 4);
                    a2 += c * Vector128.LoadUnsafe(ref tk, 8);
                    a3 += c * Vector128.LoadUnsafe(ref tk, 12);
                }

                ref int sy = ref Unsafe.Add(ref sRef, (p * Plane) + (y * N));
                Clamp(a0 >> Bits, lo, hi).StoreUnsafe(ref sy);
                Clamp(a1 >> Bits, lo, hi).StoreUnsafe(ref sy, 4);
                Clamp(a2 >> Bits, lo, hi).StoreUnsafe(ref sy, 8);
                Clamp(a3 >> Bits, lo, hi).StoreUnsafe(ref sy, 12);
            }
        }

        // Colour: RGB = M · (luma, chroma, chroma), back to pixel values.
        const int Shift = Bits + ResidualTransform.SampleBits;
        ReadOnlySpan<short> colour = ResidualTransform.Colour;
        var half = Vector128.Create(1 << (Shift - 1));
        ref int out0 = ref MemoryMarshal.GetReference(rgb);
        for (int ch = 0; ch < 3; ch++)
        {
            var m0 = Vector128.Create((int)colour[ch * 3]);
            var m1 = Vector128.Create((int)colour[(ch * 3) + 1]);
            var m2 = Vector128.Create((int)colour[(ch * 3) + 2]);
            for (int i = 0; i < Plane; i += 4)
            {
                var v = (m0 * Vector128.LoadUnsafe(ref sRef, (nuint)i)) + (m1 * Vector128.LoadUnsafe(ref sRef, (nuint)(Plane + i)))
                    + (m2 * Vector128.LoadUnsafe(ref sRef, (nuint)((2 * Plane) + i))) + half;
                (v >> Shift).StoreUnsafe(ref out0, (nuint)((ch * Plane) + i));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Clamp(Vector128<int> v, Vector128<int> lo, Vector128<int> hi) => Vector128.Min(Vector128.Max(v, lo), hi);
}
