using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends;

/// <summary>Checks once whether the native ONNX Runtime library loads in this process.</summary>
internal static class OnnxRuntimeProbe
{
    private static readonly Lazy<string?> s_failure = new(Probe);

    public static bool IsAvailable(out string reason)
    {
        reason = s_failure.Value ?? string.Empty;
        return s_failure.Value is null;
    }

    private static string? Probe()
    {
        try
        {
            _ = OrtEnv.Instance().GetVersionString();
            return null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException or OnnxRuntimeException)
        {
            return $"the ONNX Runtime native library could not be loaded ({ex.GetBaseException().Message}); reference the Microsoft.ML.OnnxRuntime package in the application";
        }
    }
}
