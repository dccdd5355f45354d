using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// Swaps only the device step for ONNX Runtime's CPU EP, so the QNN backend's code path (static shapes,
/// window padding, session cache, I/O) runs and is checked on machines without an NPU.
/// </summary>
internal sealed class CpuStandInSelector(bool runsOnCpu = true) : IEpDeviceSelector
{
    /// <summary>False only in tests that check the no-silent-fallback rule: it then poses as an NPU that takes no nodes.</summary>
    public bool RunsOnCpu => runsOnCpu;

    public bool SupportsContextCache => false;

    public (string DriverVersion, string Soc) Identity => ("cpu", "none");

    public bool TryProbe(out string reason) => OnnxRuntimeAvailable(out reason);

    public void Append(SessionOptions options)
    {
    }

    private static bool OnnxRuntimeAvailable(out string reason)
    {
        try
        {
            _ = OrtEnv.Instance().GetVersionString();
            reason = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException)
        {
            reason = ex.GetBaseException().Message;
            return false;
        }
    }
}
