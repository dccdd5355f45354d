using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// The hardware boundary of the QNN backend: finds the device and appends its execution provider.
/// Everything above it (options, shapes, caching, fallbacks, I/O) is the same code for the real
/// NPU and for the CPU stand-in the tests use on machines without one.
/// </summary>
internal interface IEpDeviceSelector
{
    /// <summary>True for the CPU stand-in: CPU-fallback prohibition does not apply to it.</summary>
    bool RunsOnCpu { get; }

    /// <summary>Whether compiled EP contexts can be cached (only for a compiling EP such as QNN).</summary>
    bool SupportsContextCache { get; }

    /// <summary>Version string and SoC that key the context cache.</summary>
    (string DriverVersion, string Soc) Identity { get; }

    /// <summary>Checks availability without side effects beyond registering the plug-in library once.</summary>
    bool TryProbe(out string reason);

    /// <summary>Appends the execution provider for the selected device to <paramref name="options"/>.</summary>
    void Append(SessionOptions options);
}
