using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Kernels;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// One dispatch path: the microkernels of one <see cref="CpuIsa"/>. All tables are built once, at type
/// initialisation, for the paths this process supports (dav1d style: start from scalar, add ISA by ISA).
/// </summary>
internal sealed unsafe class KernelTable
{
    private static readonly KernelTable?[] s_tables = Build();
    private KernelTable? _direct;

    private KernelTable(CpuIsa isa, WeightLayout layout, bool offsetActivations,
        delegate*<ref ConvTile, void> conv, delegate*<ref StoreArgs, void> store,
        delegate*<int*, RequantParams*, int, int*, void> requant16, delegate*<byte*, byte*, byte*, int, in AddParams, void> add,
        delegate*<short*, long, short*, long, int, int, bool, int*, void> winogradGemm = null)
    {
        WinogradGemm = winogradGemm;
        Isa = isa;
        Layout = layout;
        OffsetActivations = offsetActivations;
        Conv = conv;
        Store = store;
        Requant16 = requant16;
        Add = add;
    }

    public CpuIsa Isa { get; }

    /// <summary>True when 3×3 convs run as exact Winograd F(2×2, 3×3) (<see cref="WinogradGemm"/> is set).</summary>
    public bool HasWinograd => WinogradGemm != null;

    /// <summary>This path with the direct conv for every kernel size (itself when it has no Winograd GEMM).</summary>
    public KernelTable Direct => HasWinograd ? (_direct ??= new KernelTable(Isa, Layout, OffsetActivations, Conv, Store, Requant16, Add)) : this;

    public WeightLayout Layout { get; }

    /// <summary>
    /// True when the conv kernel reads activations as <c>x - 128</c> (signed, for <c>sdot</c>); the packer then folds
    /// <c>128·Σw</c> into the initial accumulator (wrapping int32, so the sum equals the reference's int32 sum).
    /// </summary>
    public bool OffsetActivations { get; }

    /// <summary>Accumulates a <see cref="ConvTile"/>.</summary>
    public delegate*<ref ConvTile, void> Conv { get; }

    /// <summary>Requantises, clamps and stores a tile (plain, depth-to-space, NHWC or planar, u8 or i32).</summary>
    public delegate*<ref StoreArgs, void> Store { get; }

    /// <summary>Requantises 16 lanes: <c>acc</c>, params at packed channel <c>p</c>, out 16 clamped ints.</summary>
    public delegate*<int*, RequantParams*, int, int*, void> Requant16 { get; }

    /// <summary>
    /// The Winograd F(2×2, 3×3) GEMM (<see cref="WinogradConv"/>), or null where it does not pay off. The 16-bit paths
    /// have one; so does <see cref="CpuIsa.Avx512Vnni"/>, whose ymm <c>vpdpbusd</c> direct kernel loses to the zmm
    /// <c>vpmaddwd</c> Winograd GEMM of <see cref="CpuIsa.Avx512Bw"/> (16 of 36 multiplies; both use <c>[16 oc][4 ic]</c>
    /// groups, so the same packing serves). <see cref="CpuIsa.AdvSimdDp"/> has none: not yet measured there.
    /// </summary>
    public delegate*<short*, long, short*, long, int, int, bool, int*, void> WinogradGemm { get; }

    /// <summary>The <c>add</c> op over <c>n</c> elements.</summary>
    public delegate*<byte*, byte*, byte*, int, in AddParams, void> Add { get; }

    /// <summary>The paths this process supports, widest first.</summary>
    public static IReadOnlyList<CpuIsa> Supported { get; } = [.. Enumerable.Range(0, s_tables.Length).Reverse().Where(i => s_tables[i] is not null).Select(i => (CpuIsa)i)];

    /// <summary>The best supported path at or below <paramref name="maxIsa"/>.</summary>
    public static KernelTable For(CpuIsa maxIsa)
    {
        for (int i = Math.Clamp((int)maxIsa, 0, s_tables.Length - 1); i >= 0; i--)
        {
            if (s_tables[i] is { } table)
            {
                return table;
            }
        }

        return s_tables[0]!;
    }

    private static KernelTable?[] Build()
    {
        var tables = new KernelTable?[(int)CpuIsa.Avx512Vnni + 1];
        tables[(int)CpuIsa.Scalar] = new KernelTable(CpuIsa.Scalar, WeightLayout.S8OcIc, false,
            &QU8ConvScalar.Run, &RequantStore.Run<RequantScalar>, &RequantScalar.Requant16Entry, &QU8AddScalar.Run);
        if (AdvSimd.Arm64.IsSupported)
        {
            tables[(int)CpuIsa.AdvSimd] = new KernelTable(CpuIsa.AdvSimd, WeightLayout.S16IcOc, false,
                &QU8ConvNeon.Run, &RequantStore.Run<RequantNeon>, &RequantNeon.Requant16Entry, &QU8AddVector128.Run,
                &QS16WinoGemmNeon.Run);
            if (Dp.IsSupported)
            {
                tables[(int)CpuIsa.AdvSimdDp] = new KernelTable(CpuIsa.AdvSimdDp, WeightLayout.S8OcIc, true,
                    &QU8ConvNeonDot.Run, &RequantStore.Run<RequantNeon>, &RequantNeon.Requant16Entry, &QU8AddVector128.Run);
            }
        }

        if (Avx2.IsSupported)
        {
            tables[(int)CpuIsa.Avx2] = new KernelTable(CpuIsa.Avx2, WeightLayout.S16OcIc, false,
                &QU8ConvAvx2.Run, &RequantStore.Run<RequantAvx2>, &RequantAvx2.Requant16Entry, &QU8AddVector256.Run,
                &QS16WinoGemmAvx2.Run);
            bool avx512 = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported;
            if (avx512)
            {
                tables[(int)CpuIsa.Avx512Bw] = new KernelTable(CpuIsa.Avx512Bw, WeightLayout.S16OcIc, false,
                    &QU8ConvAvx512Bw.Run, &RequantStore.Run<RequantAvx512>, &RequantAvx512.Requant16Entry, &QU8AddVector512.Run,
                    &QS16WinoGemmAvx512Bw.Run);
            }

            if (avx512 && AvxVnni.IsSupported)
            {
                tables[(int)CpuIsa.Avx512Vnni] = new KernelTable(CpuIsa.Avx512Vnni, WeightLayout.S8OcIc, false,
                    &QU8ConvAvxVnni.Run, &RequantStore.Run<RequantAvx512>, &RequantAvx512.Requant16Entry, &QU8AddVector512.Run,
                    &QS16WinoGemmAvx512Bw.Run);
            }
        }

        return tables;
    }
}
