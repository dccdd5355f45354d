using EdgeCodec.Models;
using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// Runs the pack's QDQ synthesis graph through ONNX Runtime with the selected EP. The NPU needs static
/// shapes, so there is one session per latent window shape (interior tiles share one; border tiles add a
/// few), each compiled once and cached as an EP context.
/// </summary>
internal sealed class QnnSynthesisSession : ISynthesisBackend
{
    private static readonly string[] s_inputNames = ["yq"];
    private static readonly string[] s_outputNames = ["rgb"];
    private readonly ModelPack _pack;
    private readonly QnnOptions _options;
    private readonly IEpDeviceSelector _selector;
    private readonly Action<string>? _log;
    private readonly byte[] _model;
    private readonly Dictionary<(int H, int W), InferenceSession> _sessions = [];
    private readonly RunOptions _run = new();

    public QnnSynthesisSession(ModelPack pack, QnnOptions options, IEpDeviceSelector selector, Action<string>? log)
    {
        _pack = pack;
        _options = options;
        _selector = selector;
        _log = log;
        _model = pack.GetEntry(ModelPack.SynthesisQdqEntry).ToArray();
        // The compiled-context cache is keyed by the graph actually compiled, not by the pack: an adapter's view shares
        // the pack's hash but carries a patched graph, and must never load the base graph's context (or evict it).
        _graphSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(_model));
    }

    private readonly string _graphSha256;

    /// <summary>SHA-256 of the QDQ graph this session compiles: the context-cache identity (differs per adapter).</summary>
    internal string GraphSha256 => _graphSha256;

    public string Name => "qnn";

    /// <summary>Static shapes: one compiled graph per window shape, so the decoder keeps one window per tile.</summary>
    public bool PrefersTileWindows => true;

    public bool IsThreadSafe => false;

    /// <inheritdoc/>
    public int WarmUpRuns => 2; // ONNX Runtime: memory pattern planned on a shape's first run, used from the second

    /// <summary>Window shapes that have a session (for tests and diagnostics).</summary>
    internal IReadOnlyCollection<(int H, int W)> Shapes => _sessions.Keys;

    public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb)
    {
        int channels = _pack.Layout.LatentChannels;
        if (yq.Length != channels * height * width)
        {
            throw new ArgumentException($"Expected {channels * height * width} latent bytes, got {yq.Length}.", nameof(yq));
        }

        int outH = height * 16, outW = width * 16, plane = outH * outW;
        if (rgb.Length != plane * 3)
        {
            throw new ArgumentException($"Expected {plane * 3} RGB bytes, got {rgb.Length}.", nameof(rgb));
        }

        var session = SessionFor(height, width);
        var output = new float[plane * 3];
        using var input = OrtValue.CreateTensorValueFromMemory(yq.ToArray(), [1, channels, height, width]);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(output, [1, 3, outH, outW]);
        session.Run(_run, s_inputNames, [input], s_outputNames, [outputValue]);
        for (int i = 0; i < plane; i++)
        {
            rgb[3 * i] = ToByte(output[i]);
            rgb[(3 * i) + 1] = ToByte(output[plane + i]);
            rgb[(3 * i) + 2] = ToByte(output[(2 * plane) + i]);
        }
    }

    public void Dispose()
    {
        foreach (var s in _sessions.Values)
        {
            s.Dispose();
        }

        _sessions.Clear();
        _run.Dispose();
    }

    private InferenceSession SessionFor(int height, int width)
    {
        if (_sessions.TryGetValue((height, width), out var existing))
        {
            return existing;
        }

        InferenceSession session;
        if (_selector.SupportsContextCache && _options.ContextCacheDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            var cache = new QnnContextCache(dir);
            var (version, soc) = _selector.Identity;
            string key = QnnContextCache.Key(_graphSha256, height, width, version, soc);
            string path = cache.PathFor(_graphSha256, height, width, key);
            if (cache.RemoveStale(_graphSha256, height, width, key) > 0)
            {
                _log?.Invoke($"qnn: driver/SoC/model changed for {height}x{width}: stale context removed");
            }

            session = ContextCachePolicy.OpenOrCompile(path, p => Create(p, null, height, width), () => Create(null, path, height, width), _log);
        }
        else
        {
            session = Create(null, null, height, width);
        }

        _sessions[(height, width)] = session;
        return session;
    }

    private InferenceSession Create(string? cachedContext, string? writeContextTo, int height, int width)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddFreeDimensionOverrideByName("h", height);
        options.AddFreeDimensionOverrideByName("w", width);
        options.AddFreeDimensionOverrideByName("H", height * 16);
        options.AddFreeDimensionOverrideByName("W", width * 16);
        foreach (var (key, value) in QnnProviderOptions.SessionEntries(_options, writeContextTo))
        {
            bool skip = (!_selector.SupportsContextCache && key.StartsWith("ep.context", StringComparison.Ordinal))
                || (_selector.RunsOnCpu && key == "session.disable_cpu_ep_fallback");
            if (!skip)
            {
                options.AddSessionConfigEntry(key, value);
            }
        }

        _selector.Append(options);
        return cachedContext is null ? new InferenceSession(_model, options) : new InferenceSession(cachedContext, options);
    }

    private static byte ToByte(float v) => (byte)Math.Clamp((int)MathF.Round(v), 0, 255);
}
