namespace EdgeCodec.Backends.Cpu;

/// <summary>Options of the CPU SIMD backend.</summary>
public sealed class CpuBackendOptions
{
    /// <summary>Environment variable read by <see cref="FromEnvironment"/>: a <see cref="CpuIsa"/> name, e.g. <c>Avx2</c>.</summary>
    public const string MaxIsaEnvironmentVariable = "EDGECODEC_CPU_MAX_ISA";

    /// <summary>Environment variable read by <see cref="FromEnvironment"/>: <c>0</c> turns <see cref="Winograd"/> off.</summary>
    public const string WinogradEnvironmentVariable = "EDGECODEC_CPU_WINOGRAD";

    /// <summary>
    /// Run 3×3 convs as exact Winograd F(2×2, 3×3) on the paths whose widest exact product is 16-bit (<see cref="CpuIsa.Avx512Bw"/>, <see cref="CpuIsa.Avx2"/>,
    /// <see cref="CpuIsa.AdvSimd"/>). Pixels are identical either way; off = the direct kernels, for A/B measurements on a device. Default on.
    /// </summary>
    public bool Winograd { get; init; } = true;

    /// <summary>The widest kernel path allowed; the best supported path at or below it is used. Default: no cap.</summary>
    public CpuIsa MaxIsa { get; init; } = CpuIsa.Avx512Vnni;

    /// <summary>Shared default options (no cap).</summary>
    public static CpuBackendOptions Default { get; } = new();

    /// <summary>Options from <see cref="MaxIsaEnvironmentVariable"/> and <see cref="WinogradEnvironmentVariable"/> when they are set.</summary>
    /// <exception cref="ArgumentException">The variable is set but names no <see cref="CpuIsa"/>.</exception>
    public static CpuBackendOptions FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(MaxIsaEnvironmentVariable);
        bool winograd = Environment.GetEnvironmentVariable(WinogradEnvironmentVariable)?.Trim() != "0";
        if (string.IsNullOrWhiteSpace(value))
        {
            return winograd ? Default : new CpuBackendOptions { Winograd = false };
        }

        return Enum.TryParse(value.Trim(), ignoreCase: true, out CpuIsa isa) && Enum.IsDefined(isa)
            ? new CpuBackendOptions { MaxIsa = isa, Winograd = winograd }
            : throw new ArgumentException($"{MaxIsaEnvironmentVariable}='{value}' is not one of {string.Join(", ", Enum.GetNames<CpuIsa>())}.");
    }
}
