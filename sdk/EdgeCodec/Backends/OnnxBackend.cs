using EdgeCodec.Models;
using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends;

/// <summary>
/// ONNX Runtime (CPU execution provider) running the pack's synthesis graph: the QDQ int8 graph
/// (<c>onnx</c>) or the fp32 graph (<c>onnx-fp32</c>). Pixels differ from the integer reference by
/// ORT's float requantisation; the difference is measured in the tests.
/// </summary>
internal sealed class OnnxBackend : DecoderBackend
{
    private readonly bool _quantized;

    public OnnxBackend(bool quantized) => _quantized = quantized;

    public override string Name => _quantized ? "onnx" : "onnx-fp32";

    public override int Priority => _quantized ? 20 : 10;

    internal string EntryName => _quantized ? ModelPack.SynthesisQdqEntry : ModelPack.SynthesisFp32Entry;

    public override bool IsAvailable(ModelPack pack, out string reason)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (!pack.HasEntry(EntryName))
        {
            reason = pack.OmittedEntries.Contains(EntryName)
                ? $"the model pack is a decoder-only copy without {EntryName} (use the cpu backend, or a copy that keeps the ONNX synthesis)"
                : $"the model pack has no {EntryName}";
            return false;
        }

        return OnnxRuntimeProbe.IsAvailable(out reason);
    }

    public override ISynthesisBackend Create(ModelPack pack, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsAvailable(pack, out var reason))
        {
            throw new NotSupportedException($"Backend '{Name}' is not available: {reason}");
        }

        return new OnnxSynthesisSession(Name, pack.GetEntry(EntryName).ToArray(), pack.Layout.LatentChannels, OnnxSessionFactory.CpuOptions(options.EffectiveThreads));
    }
}
