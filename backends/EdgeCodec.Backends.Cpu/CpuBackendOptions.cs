namespace EdgeCodec.Backends.Cpu;

/// <summary>Options of the CPU SIMD backend.</summary>
public sealed class CpuBackendOptions
{
    /// <summary>Environment variable read by <see cref="FromEnvironment"/>: a <see cref="CpuIsa"/> name, e.g. <c>Avx2</c>.</summary>
    public const string MaxIsaEnvironmentVariable = "EDGECODEC_CPU_MAX_ISA";

    /// <summary>The widest kernel path allowed; the best supported path at or below it is used. Default: no cap.</summary>
    public CpuIsa MaxIsa { get; init; } = CpuIsa.Avx512Vnni;

    /// <summary>Shared default options (no cap).</summary>
    public static CpuBackendOptions Default { get; } = new();

    /// <summary>Options with <see cref="MaxIsa"/> taken from <see cref="MaxIsaEnvironmentVariable"/> when it is set.</summary>
    /// <exception cref="ArgumentException">The variable is set but names no <see cref="CpuIsa"/>.</exception>
    public static CpuBackendOptions FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(MaxIsaEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return Default;
        }

        return Enum.TryParse(value.Trim(), ignoreCase: true, out CpuIsa isa) && Enum.IsDefined(isa)
            ? new CpuBackendOptions { MaxIsa = isa }
            : throw new ArgumentException($"{MaxIsaEnvironmentVariable}='{value}' is not one of {string.Join(", ", Enum.GetNames<CpuIsa>())}.");
    }
}
