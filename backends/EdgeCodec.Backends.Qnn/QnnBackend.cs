using EdgeCodec.Models;

namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// Decoder backend <c>qnn</c>: the pack's QDQ int8 synthesis on a Qualcomm NPU through ONNX Runtime's QNN
/// execution provider, loaded as a plug-in library at run time. Parsing stays on the CPU (integer, exact);
/// pixels differ from the integer reference by the NPU's requantisation, like the <c>onnx</c> backend.
/// </summary>
public sealed class QnnBackend : DecoderBackend
{
    private readonly QnnOptions _options;
    private readonly Func<IEpDeviceSelector> _selector;

    /// <summary>Creates the backend with the given options (default: the QNN EP beside the application).</summary>
    /// <param name="options">Where the EP lives and how to run it.</param>
    public QnnBackend(QnnOptions? options = null)
        : this(options ?? new QnnOptions(), null)
    {
    }

    internal QnnBackend(QnnOptions options, Func<IEpDeviceSelector>? selector)
    {
        _options = options;
        _selector = selector ?? (() => new QnnHtpSelector(options));
    }

    /// <inheritdoc/>
    public override string Name => "qnn";

    /// <inheritdoc/>
    public override int Priority => 40;

    /// <summary>Receives cache and fallback messages; may be null.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Registers <c>qnn</c> with <see cref="DecoderBackends"/> (idempotent; the last options win).</summary>
    /// <param name="options">Options, or null for defaults.</param>
    public static void Register(QnnOptions? options = null) => DecoderBackends.Register(new QnnBackend(options));

    /// <inheritdoc/>
    public override bool IsAvailable(ModelPack pack, out string reason)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (!pack.HasEntry(ModelPack.SynthesisQdqEntry))
        {
            reason = pack.OmittedEntries.Contains(ModelPack.SynthesisQdqEntry)
                ? "the model pack is a decoder-only copy without its quantized (QDQ) synthesis graph (use a copy that keeps the ONNX synthesis)"
                : "the model pack has no quantized (QDQ) synthesis graph";
            return false;
        }

        return _selector().TryProbe(out reason);
    }

    /// <inheritdoc/>
    public override ISynthesisBackend Create(ModelPack pack, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (!pack.HasEntry(ModelPack.SynthesisQdqEntry))
        {
            IsAvailable(pack, out string why);
            throw new NotSupportedException("Backend 'qnn' is not available: " + why);
        }

        var selector = _selector();
        if (!selector.TryProbe(out var reason))
        {
            throw new NotSupportedException($"Backend 'qnn' is not available: {reason}");
        }

        return new QnnSynthesisSession(pack, _options, selector, Log);
    }
}
