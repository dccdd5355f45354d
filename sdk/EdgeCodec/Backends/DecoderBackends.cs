using System.Collections.Concurrent;
using EdgeCodec.Models;

namespace EdgeCodec.Backends;

/// <summary>
/// The registry of decoder backends. Built in: <c>reference</c> (scalar integer engine, always available),
/// <c>onnx</c> (ONNX Runtime CPU EP on the QDQ int8 graph) and <c>onnx-fp32</c> (ONNX Runtime on the fp32 graph).
/// Backend packages (CPU SIMD, QNN, Raspberry Pi) register themselves with <see cref="Register"/>.
/// </summary>
public static class DecoderBackends
{
    /// <summary>The name that asks for automatic selection.</summary>
    public const string Auto = "auto";

    private static readonly ConcurrentDictionary<string, DecoderBackend> s_backends = new(StringComparer.OrdinalIgnoreCase);

    static DecoderBackends()
    {
        Register(new ReferenceBackend());
        Register(new OnnxBackend(quantized: true));
        Register(new OnnxBackend(quantized: false));
    }

    /// <summary>Every registered backend, highest priority first.</summary>
    public static IReadOnlyList<DecoderBackend> All => [.. s_backends.Values.OrderByDescending(b => b.Priority).ThenBy(b => b.Name, StringComparer.Ordinal)];

    /// <summary>Adds or replaces a backend under its <see cref="DecoderBackend.Name"/>.</summary>
    /// <param name="backend">The backend.</param>
    public static void Register(DecoderBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        s_backends[backend.Name] = backend;
    }

    /// <summary>Finds a backend by name.</summary>
    /// <param name="name">A registered name (case-insensitive).</param>
    /// <exception cref="ArgumentException">No backend has that name; the message lists the known ones.</exception>
    public static DecoderBackend Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (s_backends.TryGetValue(name, out var backend))
        {
            return backend;
        }

        throw new ArgumentException($"Unknown backend '{name}'. Known: {string.Join(", ", All.Select(b => b.Name))}, {Auto}.", nameof(name));
    }

    /// <summary>
    /// Resolves a name (or <see cref="Auto"/>) to an available backend. Under <see cref="Auto"/> every available
    /// backend is timed once per pack and process on a small window and the fastest wins (within 10 %, the higher
    /// priority wins: an exact backend over an approximate one); skipped backends are reported to <paramref name="log"/>.
    /// </summary>
    /// <param name="name">Backend name or <c>auto</c>.</param>
    /// <param name="pack">The pack to decode.</param>
    /// <param name="log">Receives one line per fallback decision; may be null.</param>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    /// <exception cref="NotSupportedException">The named backend is unavailable here; the message says why.</exception>
    public static DecoderBackend Resolve(string name, ModelPack pack, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (!string.Equals(name, Auto, StringComparison.OrdinalIgnoreCase))
        {
            var backend = Get(name);
            return backend.IsAvailable(pack, out var reason)
                ? backend
                : throw new NotSupportedException($"Backend '{backend.Name}' is not available: {reason}");
        }

        var available = new List<DecoderBackend>();
        foreach (var candidate in All)
        {
            if (candidate.IsAvailable(pack, out var reason))
            {
                available.Add(candidate);
            }
            else
            {
                log?.Invoke($"auto: skipping '{candidate.Name}': {reason}");
            }
        }

        if (available.Count > 0)
        {
            var chosen = BackendSpeedProbe.Fastest(pack, available, log);
            log?.Invoke($"auto: using backend '{chosen.Name}'");
            return chosen;
        }

        throw new NotSupportedException("No decoder backend is available.");
    }
}
