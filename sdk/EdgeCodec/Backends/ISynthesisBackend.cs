namespace EdgeCodec.Backends;

/// <summary>
/// Runs the synthesis transform <c>g_s</c> of one model pack on latent windows. Created by a
/// <see cref="DecoderBackend"/>; one instance serves one decoder and is not thread-safe unless
/// <see cref="IsThreadSafe"/> says so.
/// </summary>
/// <remarks>
/// The input is the output of the pack's synthesis <c>quantize</c> node: planar bytes <c>yq[c, y, x]</c>
/// with zero point 128 (see docs/model-pack.md), so every backend starts from the same integers.
/// Backends may differ in the pixels they produce (within the tolerance stated per backend), never
/// in how a stream is parsed.
/// </remarks>
public interface ISynthesisBackend : IDisposable
{
    /// <summary>The backend's name as used on the command line (<c>reference</c>, <c>onnx</c>, ...).</summary>
    string Name { get; }

    /// <summary>True when <see cref="Synthesize"/> may be called from several threads at once.</summary>
    bool IsThreadSafe { get; }

    /// <summary>
    /// True when the backend compiles one graph per window shape (an NPU with static shapes), so the decoder keeps
    /// to one window per tile instead of merging tiles into larger regions. Default false.
    /// </summary>
    bool PrefersTileWindows => false;

    /// <summary>
    /// How many times <see cref="Codec.EdgeCodecDecoder.WarmUp"/> runs this synthesis on a stream's windows before its
    /// first picture. Default 1: an engine whose first run is slow only by first-touch allocation and JIT. ONNX
    /// Runtime sessions say 2: a session plans its memory pattern on a shape's first run and allocates by it on the
    /// second (docs/benchmarks.md, "Why two runs").
    /// </summary>
    int WarmUpRuns => 1;

    /// <summary>Synthesises RGB pixels from a window of quantised latents.</summary>
    /// <param name="yq">Planar latents, <c>channels × height × width</c> bytes; read only during the call.</param>
    /// <param name="height">Latent rows in the window (≥ 1).</param>
    /// <param name="width">Latent columns in the window (≥ 1).</param>
    /// <param name="rgb">Receives <c>16·height × 16·width</c> interleaved RGB pixels (row-major, no padding).</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb);
}
