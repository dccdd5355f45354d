using EdgeCodec.Models;

namespace EdgeCodec.Backends;

/// <summary>
/// A pluggable decoder backend: says whether it can run on this machine with a given pack, and
/// creates <see cref="ISynthesisBackend"/> sessions. Register custom backends with
/// <see cref="DecoderBackends.Register"/>.
/// </summary>
public abstract class DecoderBackend
{
    /// <summary>The name used on the command line and in <see cref="DecoderBackends.Get"/>.</summary>
    public abstract string Name { get; }

    /// <summary>Automatic selection tries higher priorities first (NPU &gt; CPU SIMD &gt; ONNX &gt; reference).</summary>
    public abstract int Priority { get; }

    /// <summary>Probes whether the backend can decode <paramref name="pack"/> here.</summary>
    /// <param name="pack">The model pack to decode with.</param>
    /// <param name="reason">When unavailable, why (library missing, no device, model lacks a graph ...).</param>
    /// <returns>True when <see cref="Create"/> will succeed.</returns>
    public abstract bool IsAvailable(ModelPack pack, out string reason);

    /// <summary>Creates a synthesis session for <paramref name="pack"/>.</summary>
    /// <param name="pack">The model pack.</param>
    /// <param name="options">Threading and tuning options.</param>
    /// <exception cref="NotSupportedException">The backend is not available (see <see cref="IsAvailable"/>).</exception>
    public abstract ISynthesisBackend Create(ModelPack pack, BackendOptions options);
}
