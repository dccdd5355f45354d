namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// Where the QNN execution provider lives and how to run it. Defaults suit a Snapdragon device with the
/// QNN EP plug-in next to the application (<c>libonnxruntime_providers_qnn.so</c> + <c>libQnnHtp.so</c>).
/// </summary>
public sealed class QnnOptions
{
    /// <summary>Path of the QNN EP plug-in library registered with ONNX Runtime. Default: <c>libonnxruntime_providers_qnn.so</c> beside the app.</summary>
    public string ProviderLibraryPath { get; init; } = Path.Combine(AppContext.BaseDirectory, "libonnxruntime_providers_qnn.so");

    /// <summary>QNN backend library (<c>backend_path</c>); the HTP (NPU) backend by default.</summary>
    public string BackendPath { get; init; } = "libQnnHtp.so";

    /// <summary><c>htp_performance_mode</c>: burst, sustained_high_performance (default), balanced, power_saver, ...</summary>
    public string PerformanceMode { get; init; } = "sustained_high_performance";

    /// <summary><c>htp_graph_finalization_optimization_mode</c>: 0..3; 3 = longest compile, fastest run (default 3, compiled once and cached).</summary>
    public int GraphFinalizationOptimizationMode { get; init; } = 3;

    /// <summary><c>soc_model</c>, or null to let QNN detect it.</summary>
    public string? SocModel { get; init; }

    /// <summary><c>htp_arch</c> (e.g. 73 for Snapdragon 8 Gen 3), or null to let QNN detect it.</summary>
    public int? HtpArch { get; init; }

    /// <summary><c>enable_htp_fp16_precision</c>; the QDQ graph is int8, so off by default.</summary>
    public bool EnableHtpFp16Precision { get; init; }

    /// <summary>
    /// <c>session.disable_cpu_ep_fallback</c>: on by default, so a graph the NPU cannot take fails loudly
    /// instead of running on the CPU unnoticed.
    /// </summary>
    public bool DisableCpuEpFallback { get; init; } = true;

    /// <summary>Folder for compiled EP context binaries; null disables the cache. Default: a folder under the user's cache.</summary>
    public string? ContextCacheDirectory { get; init; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "edgecodec", "qnn-context");

    /// <summary>Embed the context binary inside the cached ONNX file (<c>ep.context_embed_mode</c> 1) instead of beside it. Default true.</summary>
    public bool EmbedContext { get; init; } = true;

    /// <summary>QNN SDK / driver version string that keys the cache; a change forces a recompile. Default: taken from the EP device metadata.</summary>
    public string? DriverVersion { get; init; }
}
