using System.Globalization;

namespace EdgeCodec.Backends.Qnn;

/// <summary>Turns <see cref="QnnOptions"/> into the QNN EP's provider options and the session config entries.</summary>
internal static class QnnProviderOptions
{
    public static Dictionary<string, string> ProviderOptions(QnnOptions options)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["backend_path"] = options.BackendPath,
            ["htp_performance_mode"] = options.PerformanceMode,
            ["htp_graph_finalization_optimization_mode"] = options.GraphFinalizationOptimizationMode.ToString(CultureInfo.InvariantCulture),
            ["enable_htp_fp16_precision"] = options.EnableHtpFp16Precision ? "1" : "0",
        };
        if (options.SocModel is { Length: > 0 } soc)
        {
            result["soc_model"] = soc;
        }

        if (options.HtpArch is int arch)
        {
            result["htp_arch"] = arch.ToString(CultureInfo.InvariantCulture);
        }

        return result;
    }

    /// <summary>Session config entries; <paramref name="contextPath"/> is where a compiled context is written (null: no caching).</summary>
    public static Dictionary<string, string> SessionEntries(QnnOptions options, string? contextPath)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["session.disable_cpu_ep_fallback"] = options.DisableCpuEpFallback ? "1" : "0",
        };
        if (contextPath is not null)
        {
            result["ep.context_enable"] = "1";
            result["ep.context_file_path"] = contextPath;
            result["ep.context_embed_mode"] = options.EmbedContext ? "1" : "0";
        }

        return result;
    }
}
