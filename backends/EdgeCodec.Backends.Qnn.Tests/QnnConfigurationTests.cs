using EdgeCodec.Backends.Qnn;

namespace EdgeCodec.Backends.Qnn.Tests;

public sealed class QnnConfigurationTests
{
    [Fact]
    public void Provider_options_carry_every_documented_setting()
    {
        var options = new QnnOptions { BackendPath = "/opt/qnn/libQnnHtp.so", PerformanceMode = "burst", GraphFinalizationOptimizationMode = 2, SocModel = "60", HtpArch = 73, EnableHtpFp16Precision = true };
        var p = QnnProviderOptions.ProviderOptions(options);
        Assert.Equal("/opt/qnn/libQnnHtp.so", p["backend_path"]);
        Assert.Equal("burst", p["htp_performance_mode"]);
        Assert.Equal("2", p["htp_graph_finalization_optimization_mode"]);
        Assert.Equal("60", p["soc_model"]);
        Assert.Equal("73", p["htp_arch"]);
        Assert.Equal("1", p["enable_htp_fp16_precision"]);
    }

    [Fact]
    public void Defaults_leave_soc_detection_to_qnn_and_forbid_silent_cpu_fallback()
    {
        var options = new QnnOptions();
        var p = QnnProviderOptions.ProviderOptions(options);
        Assert.False(p.ContainsKey("soc_model"));
        Assert.False(p.ContainsKey("htp_arch"));
        Assert.Equal("0", p["enable_htp_fp16_precision"]);
        var s = QnnProviderOptions.SessionEntries(options, null);
        Assert.Equal("1", s["session.disable_cpu_ep_fallback"]);
        Assert.False(s.ContainsKey("ep.context_enable"));
    }

    [Fact]
    public void Context_cache_entries_name_the_file_and_embed_mode()
    {
        var s = QnnProviderOptions.SessionEntries(new QnnOptions { EmbedContext = false }, "/cache/x_ctx.onnx");
        Assert.Equal("1", s["ep.context_enable"]);
        Assert.Equal("/cache/x_ctx.onnx", s["ep.context_file_path"]);
        Assert.Equal("0", s["ep.context_embed_mode"]);
    }

    [Fact]
    public void Cache_key_changes_with_model_shape_driver_and_soc()
    {
        string sha = new('a', 64);
        string baseKey = QnnContextCache.Key(sha, 24, 24, "2.30", "60");
        Assert.Equal(baseKey, QnnContextCache.Key(sha, 24, 24, "2.30", "60"));
        Assert.NotEqual(baseKey, QnnContextCache.Key(new string('b', 64), 24, 24, "2.30", "60"));
        Assert.NotEqual(baseKey, QnnContextCache.Key(sha, 24, 20, "2.30", "60"));
        Assert.NotEqual(baseKey, QnnContextCache.Key(sha, 24, 24, "2.31", "60"));
        Assert.NotEqual(baseKey, QnnContextCache.Key(sha, 24, 24, "2.30", "57"));
    }

    [Fact]
    public void A_driver_update_removes_the_stale_context_of_that_model_and_shape_only()
    {
        string dir = Directory.CreateTempSubdirectory("qnn-cache").FullName;
        try
        {
            var cache = new QnnContextCache(dir);
            string sha = new('c', 64);
            string oldKey = QnnContextCache.Key(sha, 24, 24, "2.30", "60");
            string newKey = QnnContextCache.Key(sha, 24, 24, "2.31", "60");
            File.WriteAllText(cache.PathFor(sha, 24, 24, oldKey), "old");
            File.WriteAllText(cache.PathFor(sha, 24, 20, oldKey), "other shape");
            File.WriteAllText(cache.PathFor(new string('d', 64), 24, 24, oldKey), "other model");
            Assert.Equal(1, cache.RemoveStale(sha, 24, 24, newKey));
            Assert.False(File.Exists(cache.PathFor(sha, 24, 24, oldKey)));
            Assert.Equal(2, Directory.GetFiles(dir).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_context_that_fails_to_load_is_deleted_and_recompiled()
    {
        string dir = Directory.CreateTempSubdirectory("qnn-cache").FullName;
        try
        {
            string path = Path.Combine(dir, "m-24x24-k_ctx.onnx");
            File.WriteAllBytes(path, [1, 2, 3, 4]); // "Failed to create context from binary"
            var log = new List<string>();
            bool compiled = false;
            string result = ContextCachePolicy.OpenOrCompile(path,
                p => { using var s = new Microsoft.ML.OnnxRuntime.InferenceSession(p); return "cached"; },
                () => { compiled = true; return "compiled"; }, log.Add);
            Assert.Equal("compiled", result);
            Assert.True(compiled);
            Assert.False(File.Exists(path));
            Assert.Contains(log, l => l.Contains("recompiling", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_valid_cached_context_is_used_without_compiling()
    {
        string dir = Directory.CreateTempSubdirectory("qnn-cache").FullName;
        try
        {
            string path = Path.Combine(dir, "m_ctx.onnx");
            File.WriteAllText(path, "x");
            string result = ContextCachePolicy.OpenOrCompile(path, _ => "cached", () => throw new InvalidOperationException("must not compile"), null);
            Assert.Equal("cached", result);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
