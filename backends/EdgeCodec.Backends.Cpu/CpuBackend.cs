using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu;

/// <summary>
/// The CPU SIMD decoder backend <c>cpu</c>: an int8 engine whose every kernel path (AVX-VNNI/AVX-512, AVX2, Arm64
/// AdvSimd with and without dot product, scalar) is bit-identical to the scalar reference engine, so its pixels equal
/// the <c>reference</c> backend's exactly.
/// </summary>
/// <remarks>
/// Kernels are selected once, at start-up, into a table; <see cref="CpuBackendOptions.MaxIsa"/> caps the path (tests
/// and device checks pin each one). <see cref="Register"/> also routes the integer graphs' conv (hyper decoder,
/// context models) through the same bit-exact kernels.
/// </remarks>
public sealed class CpuBackend : DecoderBackend
{
    /// <summary>The registry name, <c>cpu</c>.</summary>
    public const string BackendName = "cpu";

    private static readonly Lock s_registerLock = new();

    private static KernelTable? s_entropyTable;
    private readonly KernelTable _table;

    /// <summary>Creates the backend with the best path allowed by <paramref name="options"/>.</summary>
    /// <param name="options">Options, or null for no ISA cap.</param>
    public CpuBackend(CpuBackendOptions? options = null)
    {
        Options = options ?? CpuBackendOptions.Default;
        _table = Options.Winograd ? KernelTable.For(Options.MaxIsa) : KernelTable.For(Options.MaxIsa).Direct;
    }

    /// <inheritdoc/>
    public override string Name => BackendName;

    /// <summary>30: above ONNX Runtime (20) and the reference (0).</summary>
    public override int Priority => 30;

    /// <summary>The options this backend was created with.</summary>
    public CpuBackendOptions Options { get; }

    /// <summary>The kernel path this backend runs.</summary>
    public CpuIsa Isa => _table.Isa;

    /// <summary>True when 3×3 convs run as exact Winograd F(2×2, 3×3) (16-bit paths, unless <see cref="CpuBackendOptions.Winograd"/> is off).</summary>
    public bool UsesWinograd => _table.HasWinograd;

    /// <summary>Every path this process can run, widest first (always ends with <see cref="CpuIsa.Scalar"/>).</summary>
    public static IReadOnlyList<CpuIsa> SupportedIsas => KernelTable.Supported;

    /// <summary>
    /// The widest path the processor itself offers (Arm64 Linux: the kernel's <c>AT_HWCAP</c>; x64: <c>/proc/cpuinfo</c> or <c>cpuid</c>), whatever this
    /// process can use. When it is wider than <see cref="SupportedIsas"/>' first entry, the process runs a narrower
    /// path than the machine has: a Native AOT build compiled for the baseline instruction set (publish with
    /// <c>-p:IlcInstructionSet=native</c> on the device, or name its set, e.g. <c>x86-64-v4,avxvnni</c> or
    /// <c>armv8.2-a+dotprod</c>; docs/backends.md, "Native AOT"), or intrinsics switched off by environment.
    /// </summary>
    public static CpuIsa HardwareIsa => HardwareFeatures.Isa;

    /// <summary>
    /// A sentence saying that this process cannot use the processor's widest path (<see cref="HardwareIsa"/> wider
    /// than the first of <see cref="SupportedIsas"/>) and why that may be, or <see langword="null"/> when it can.
    /// </summary>
    public static string? IsaShortfall
    {
        get
        {
            CpuIsa usable = SupportedIsas[0];
            if (HardwareIsa <= usable)
            {
                return null;
            }

            string cause = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported
                ? "hardware intrinsics are switched off for this process (DOTNET_Enable* environment variables)"
                : "this Native AOT build targets a baseline instruction set: publish with -p:IlcInstructionSet=native on the device, or name its set";
            return $"The CPU offers the {HardwareIsa} path but this process can run only {usable}: {cause}.";
        }
    }

    /// <summary>The path the integer graphs' conv uses: <see langword="null"/> while it is the scalar reference (before <see cref="Register"/>).</summary>
    public static CpuIsa? EntropyIsa => s_entropyTable?.Isa;

    /// <summary>The best supported path at or below <paramref name="maxIsa"/>.</summary>
    /// <param name="maxIsa">The cap.</param>
    /// <returns>The path that would run.</returns>
    public static CpuIsa SelectIsa(CpuIsa maxIsa) => KernelTable.For(maxIsa).Isa;

    /// <summary>
    /// Registers the backend as <c>cpu</c> in <see cref="DecoderBackends"/> and installs its bit-exact conv for the
    /// integer graphs (hyper decoder, context models). Idempotent; a later call with other options replaces both.
    /// </summary>
    /// <param name="options">Options, or null for <see cref="CpuBackendOptions.FromEnvironment"/> (no cap unless <c>EDGECODEC_CPU_MAX_ISA</c> is set).</param>
    /// <returns>The registered backend.</returns>
    /// <exception cref="ArgumentException">The environment variable names no <see cref="CpuIsa"/>.</exception>
    public static CpuBackend Register(CpuBackendOptions? options = null)
    {
        var backend = new CpuBackend(options ?? CpuBackendOptions.FromEnvironment());
        lock (s_registerLock)
        {
            DecoderBackends.Register(backend);
            if (s_entropyTable != backend._table)
            {
                IntegerKernels.Conv = new EntropyConv(backend._table).Run;
                s_entropyTable = backend._table;
            }
        }

        return backend;
    }

    /// <summary>Restores the scalar reference conv for the integer graphs (the <c>cpu</c> backend stays registered).</summary>
    public static void UnregisterEntropyKernels()
    {
        lock (s_registerLock)
        {
            IntegerKernels.Reset();
            s_entropyTable = null;
        }
    }

    /// <inheritdoc/>
    public override bool IsAvailable(ModelPack pack, out string reason)
    {
        ArgumentNullException.ThrowIfNull(pack);
        return CpuSynthesis.CanRun(pack, out reason);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="pack"/> or <paramref name="options"/> is null.</exception>
    public override ISynthesisBackend Create(ModelPack pack, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsAvailable(pack, out string reason))
        {
            throw new NotSupportedException($"Backend '{Name}' is not available: {reason}");
        }

        return CpuSynthesis.Create(pack, _table, options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
    }
}
