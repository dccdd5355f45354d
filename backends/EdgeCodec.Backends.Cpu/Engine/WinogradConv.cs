using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeCodec.Inference;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// Exact integer Winograd F(2×2, 3×3) for 3×3 stride-1 convs on the paths whose widest exact product is 16-bit
/// (<c>vpmaddwd</c>, <c>smlal</c>: the Avx512Bw, Avx2 and AdvSimd paths): 16 multiplies per 2×2 outputs and input
/// channel instead of 36.
/// </summary>
/// <remarks>
/// <para>
/// Lavin &amp; Gray's transforms with the weight transform scaled by 2 on each side, so every number is an integer:
/// <c>G' = 2G = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]]</c>, <c>U = G'·g·G'ᵀ = 4·(GgGᵀ)</c> (|u| ≤ 9·128 = 1152),
/// <c>V = Bᵀ·d·B</c> of the 4×4 u8 input patch (|v| ≤ 4·255 = 1020), <c>Y' = Aᵀ·(Σ_ic U⊙V)·A = 4·Y</c>.
/// </para>
/// <para>
/// Exactness: every step is integer addition and multiplication, so computing it in wrapping int32 gives
/// <c>Y' ≡ 4·Y (mod 2^32)</c> whatever the intermediate magnitudes. The packer enables the path only when every output
/// channel's <c>|Y| ≤ 255·Σ|w| &lt; 2^29</c>; then <c>4·Y</c> fits int32, <c>Y' = 4·Y</c> exactly and <c>Y' &gt;&gt; 2 = Y</c>,
/// the same int32 the reference accumulates. Odd last rows and columns use the direct kernel.
/// </para>
/// </remarks>
internal static unsafe class WinogradConv
{
    /// <summary>Transform positions (4×4).</summary>
    public const int Positions = 16;

    /// <summary>Output pixels per tile side.</summary>
    public const int TileOut = 2;

    /// <summary>Tiles per strip (the strip is <see cref="ConvGeometry.TilePixels"/> output pixels wide).</summary>
    public const int StripTiles = ConvGeometry.TilePixels / TileOut;

    /// <summary>Largest input channel stride handled (the per-thread V scratch is <c>64 · stride</c> int16 on the stack).</summary>
    public const int MaxChannelStride = 512;

    /// <summary>
    /// Packs <c>U</c> as <c>[pos][block][group]</c> blocks of 64 int16 in the path's order (<c>[16 oc][4 ic]</c>, or
    /// <c>[4 ic][16 oc]</c> for <see cref="WeightLayout.S16IcOc"/>), or returns null when the conv is not 3×3, too wide,
    /// has weights outside int8, or could exceed the exactness bound.
    /// </summary>
    public static short[]? Pack(ConvNode node, int[] original, int paddedOut, int groups, int channelStride, WeightLayout layout)
    {
        if (node.Kernel != 3 || channelStride > MaxChannelStride)
        {
            return null;
        }

        int cin = node.InChannels, taps = 9;
        foreach (int o in original)
        {
            if (o < 0)
            {
                continue;
            }

            long abs = 0;
            for (int i = 0; i < cin * taps; i++)
            {
                int w = node.Weight[(o * cin * taps) + i];
                if (w is < sbyte.MinValue or > sbyte.MaxValue)
                {
                    return null; // int8 weights keep |u| ≤ 9·128 within int16
                }

                abs += Math.Abs(w);
            }

            if (255 * abs >= 1L << 29)
            {
                return null;
            }
        }

        int blocks = paddedOut / ConvGeometry.Block;
        var u = GC.AllocateArray<short>(Positions * blocks * groups * 64, pinned: true);
        Span<int> g = stackalloc int[9];
        Span<int> t = stackalloc int[12];
        ReadOnlySpan<int> gp = [2, 0, 0, 1, 1, 1, 1, -1, 1, 0, 0, 2]; // G' (4×3)
        for (int p = 0; p < paddedOut; p++)
        {
            int o = original[p];
            if (o < 0)
            {
                continue;
            }

            int block = p / ConvGeometry.Block, lane = p % ConvGeometry.Block;
            for (int c = 0; c < cin; c++)
            {
                for (int k = 0; k < 9; k++)
                {
                    g[k] = node.Weight[(((o * cin) + c) * taps) + k];
                }

                // t = G'·g (4×3), then U = t·G'ᵀ (4×4).
                for (int i = 0; i < 4; i++)
                {
                    for (int j = 0; j < 3; j++)
                    {
                        t[(i * 3) + j] = (gp[i * 3] * g[j]) + (gp[(i * 3) + 1] * g[3 + j]) + (gp[(i * 3) + 2] * g[6 + j]);
                    }
                }

                for (int i = 0; i < 4; i++)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        int v = (t[i * 3] * gp[j * 3]) + (t[(i * 3) + 1] * gp[(j * 3) + 1]) + (t[(i * 3) + 2] * gp[(j * 3) + 2]);
                        int pos = (i * 4) + j;
                        u[(((((pos * blocks) + block) * groups) + (c / 4)) * 64) + layout.InGroup(lane, c % 4)] = checked((short)v);
                    }
                }
            }
        }

        return u;
    }

    /// <summary>
    /// The driver shared by the 2-tile × 16-channel GEMM microkernels (AVX2, NEON): each block of the pair, tiles two at a
    /// time; <paramref name="micro"/>(w, v, tile stride or 0, tiles 1..2, groups, m) computes one such step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemm2x16(short* w, long blockStride, short* v, long vTileStride, int tiles, int groups, bool pair, int* m,
        delegate*<short*, short*, long, int, int, int*, void> micro)
    {
        for (int b = 0; b < (pair ? 2 : 1); b++)
        {
            short* wb = w + (b * blockStride);
            int* mb = m + (b * ConvGeometry.Block);
            for (int tile = 0; tile < tiles; tile += 2)
            {
                int n = Math.Min(2, tiles - tile);
                micro(wb, v + (tile * vTileStride), n > 1 ? vTileStride : 0, n, groups, mb + (tile * ConvGeometry.TileChannels));
            }
        }
    }

    /// <summary>
    /// Input transform of up to <see cref="StripTiles"/> tiles: <c>v[tile][pos][c]</c> for the 4×4 patches whose top-left
    /// input pixels are <c>input + tile·2·pixelStride</c> (row stride <paramref name="rowStride"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformInput(byte* input, int rowStride, int pixelStride, int tiles, short* v)
    {
        long tileStride = (long)Positions * pixelStride;
        for (int tile = 0; tile < tiles; tile++)
        {
            byte* d = input + ((long)tile * TileOut * pixelStride);
            short* vt = v + (tile * tileStride);
            int c = 0;
            for (; c + 8 <= pixelStride; c += 8)
            {
                Transform8(d + c, rowStride, pixelStride, vt + c, pixelStride);
            }

            for (; c < pixelStride; c++)
            {
                TransformScalar(d + c, rowStride, pixelStride, vt + c, pixelStride);
            }
        }
    }

    /// <summary>
    /// Output transform of one strip for one block (16 channels): <c>m[pos][tile][64]</c> → the accumulators of output
    /// rows 0 and 1 (<c>[px][64]</c>, block offset already applied), <c>acc = (Y' &gt;&gt; 2) + init</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformOutput(int* m, int tiles, int* init, int* acc0, int* acc1)
    {
        const int R = ConvGeometry.TileChannels;
        const int P = StripTiles * R; // m stride between positions
        for (int tile = 0; tile < tiles; tile++)
        {
            int* a0 = acc0 + (tile * TileOut * R), a1 = acc1 + (tile * TileOut * R);
            for (int h = 0; h < ConvGeometry.Block; h += 4)
            {
                // 128-bit quarters: the same code on every path (x64 and Arm64).
                int* mt = m + (tile * R) + h;
                Vector128<int> i0 = Vector128.Load(init + h);
                Vector128<int> m00 = Vector128.Load(mt), m01 = Vector128.Load(mt + P), m02 = Vector128.Load(mt + (2 * P)), m03 = Vector128.Load(mt + (3 * P));
                Vector128<int> m10 = Vector128.Load(mt + (4 * P)), m11 = Vector128.Load(mt + (5 * P)), m12 = Vector128.Load(mt + (6 * P)), m13 = Vector128.Load(mt + (7 * P));
                Vector128<int> m20 = Vector128.Load(mt + (8 * P)), m21 = Vector128.Load(mt + (9 * P)), m22 = Vector128.Load(mt + (10 * P)), m23 = Vector128.Load(mt + (11 * P));
                Vector128<int> m30 = Vector128.Load(mt + (12 * P)), m31 = Vector128.Load(mt + (13 * P)), m32 = Vector128.Load(mt + (14 * P)), m33 = Vector128.Load(mt + (15 * P));

                // Aᵀ·M: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (rows); then the same along columns.
                Vector128<int> s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23;
                Vector128<int> s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33;
                (Vector128.ShiftRightArithmetic(s00 + s01 + s02, 2) + i0).Store(a0 + h);
                (Vector128.ShiftRightArithmetic(s01 - s02 - s03, 2) + i0).Store(a0 + R + h);
                (Vector128.ShiftRightArithmetic(s10 + s11 + s12, 2) + i0).Store(a1 + h);
                (Vector128.ShiftRightArithmetic(s11 - s12 - s13, 2) + i0).Store(a1 + R + h);
            }
        }
    }

    /// <summary>Bᵀ·d·B for 8 channels at once (int16 lanes; 128-bit, the same code on every path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transform8(byte* d, int rowStride, int pixelStride, short* v, int posStride)
    {
        // Rows first: t_j for the 4 columns of each output row of Bᵀ·d.
        Vector128<short> t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33;
        (t00, t10, t20, t30) = Rows(d, rowStride);
        (t01, t11, t21, t31) = Rows(d + pixelStride, rowStride);
        (t02, t12, t22, t32) = Rows(d + (2 * pixelStride), rowStride);
        (t03, t13, t23, t33) = Rows(d + (3 * pixelStride), rowStride);
        Columns(t00, t01, t02, t03, v, posStride);
        Columns(t10, t11, t12, t13, v + (4L * posStride), posStride);
        Columns(t20, t21, t22, t23, v + (8L * posStride), posStride);
        Columns(t30, t31, t32, t33, v + (12L * posStride), posStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<short>, Vector128<short>, Vector128<short>, Vector128<short>) Rows(byte* col, int rowStride)
    {
        Vector128<short> d0 = Widen8(col), d1 = Widen8(col + rowStride), d2 = Widen8(col + (2 * rowStride)), d3 = Widen8(col + (3 * rowStride));
        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector128<short> t0, Vector128<short> t1, Vector128<short> t2, Vector128<short> t3, short* v, int posStride)
    {
        (t0 - t2).Store(v);
        (t1 + t2).Store(v + posStride);
        (t2 - t1).Store(v + (2 * posStride));
        (t1 - t3).Store(v + (3 * posStride));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Widen8(byte* p) => Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(p)).AsByte()).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformScalar(byte* d, int rowStride, int pixelStride, short* v, int posStride)
    {
        Span<int> t = stackalloc int[16];
        for (int j = 0; j < 4; j++)
        {
            byte* col = d + (j * pixelStride);
            int d0 = col[0], d1 = col[rowStride], d2 = col[2 * rowStride], d3 = col[3 * rowStride];
            t[j] = d0 - d2;
            t[4 + j] = d1 + d2;
            t[8 + j] = d2 - d1;
            t[12 + j] = d1 - d3;
        }

        for (int i = 0; i < 4; i++)
        {
            int t0 = t[4 * i], t1 = t[(4 * i) + 1], t2 = t[(4 * i) + 2], t3 = t[(4 * i) + 3];
            short* vi = v + ((long)4 * i * posStride);
            vi[0] = (short)(t0 - t2);
            vi[posStride] = (short)(t1 + t2);
            vi[2 * posStride] = (short)(t2 - t1);
            vi[3 * posStride] = (short)(t1 - t3);
        }
    }
}
