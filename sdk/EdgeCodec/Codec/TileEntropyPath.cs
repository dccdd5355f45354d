using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Codec;

/// <summary>
/// The entropy-critical path of one tile: z → hyper decoder → per group (mean, scale index) → symbols.
/// Integer only (docs/model-pack.md); the encoder and the decoder run exactly this code, so they
/// derive the same tables on every machine.
/// </summary>
internal sealed class TileEntropyPath
{
    private readonly IntegerEntropyModel _model;

    public TileEntropyPath(ModelPack pack) => _model = new IntegerEntropyModel(pack);

    /// <summary>Threads per tile when <paramref name="tiles"/> tiles share <paramref name="threads"/> threads.</summary>
    public static int ThreadsPerTile(int threads, int tiles) => Math.Max(1, threads / Math.Max(1, tiles));

    /// <summary>Table index of every z value (its channel), channel-major.</summary>
    public static int[] HyperTableIndices(int channels, int plane, TensorPool? pool = null)
    {
        int[] indices = TensorPool.Ints(pool, channels * plane);
        for (int c = 0; c < channels; c++)
        {
            indices.AsSpan(c * plane, plane).Fill(c);
        }

        return indices;
    }

    /// <summary>
    /// Runs the path. <paramref name="symbolsFor"/> is called once per group in order with the group's
    /// predicted mean and scale indices and returns the group's symbols, or null when the group is not
    /// available (it then decodes as its mean). Returns the tile's latents y (M × h × w, fixed point).
    /// </summary>
    /// <remarks>
    /// <paramref name="maxDegreeOfParallelism"/> is the threads the tile's convolutions may use (callers give a tile
    /// more than one when there are fewer tiles than threads); the result never depends on it. With a
    /// <paramref name="pool"/>, the path's tensors and the symbols <paramref name="symbolsFor"/> returns go back to it
    /// once read (so the callback may rent them there), and the returned latents are the caller's to hand back.
    /// </remarks>
    /// <exception cref="EdgeCodecFormatException">A symbol is outside the fixed-point range.</exception>
    public I32Tensor Run(I32Tensor z, Func<int, I32Tensor, I32Tensor, int[]?> symbolsFor, EntropyTimer? timer = null, int maxDegreeOfParallelism = 1, TensorPool? pool = null)
    {
        long start = timer?.Start() ?? 0;
        var session = _model.StartTile(z, maxDegreeOfParallelism, pool);
        while (!session.IsComplete)
        {
            var prediction = session.Predict();
            timer?.StopHyper(ref start);
            int[]? symbols = symbolsFor(prediction.Group, prediction.Mean, prediction.Index);
            start = timer?.Start() ?? 0;
            if (symbols is null)
            {
                session.SkipGroup();
            }
            else
            {
                session.DecodeGroup(symbols);
                pool?.Return(symbols);
            }
        }

        timer?.StopHyper(ref start);
        return session.GetLatent();
    }
}
