using EdgeCodec.Models;

namespace EdgeCodec.Inference;

/// <summary>
/// The entropy-critical path of one model for one tile: hyper decoder, then the context model of each group in order.
/// Integer-only, so encoder and decoder derive identical means and scale indices on every machine.
/// </summary>
/// <remarks>Thread-safe: each tile gets its own <see cref="EntropyTileSession"/>.</remarks>
internal sealed class IntegerEntropyModel
{
    public IntegerEntropyModel(ModelPack pack)
    {
        ArgumentNullException.ThrowIfNull(pack);
        Pack = pack;
    }

    public ModelPack Pack { get; }

    /// <summary>Runs the hyper decoder on the tile's decoded hyper-latent and returns a session positioned at group 0.</summary>
    /// <param name="z">The tile's hyper-latent integers, <c>HyperChannels × h64 × w64</c>.</param>
    /// <param name="maxDegreeOfParallelism">Threads the convolutions may use; results never depend on it.</param>
    /// <exception cref="ArgumentException"><paramref name="z"/> has the wrong channel count.</exception>
    public EntropyTileSession StartTile(I32Tensor z, int maxDegreeOfParallelism = 1, TensorPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(z);
        var hyper = (U8Tensor)Pack.HyperGraph.Run(new Dictionary<string, Tensor> { ["z"] = z }, 0, maxDegreeOfParallelism, pool)["hyper"];
        return new EntropyTileSession(Pack, hyper, maxDegreeOfParallelism, pool);
    }
}
