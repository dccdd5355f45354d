using EdgeCodec.Models;

namespace EdgeCodec.Inference;

/// <summary>
/// Walks the groups of one tile in order (docs/model-pack.md, "Graphs and how the codec uses them"):
/// <see cref="Predict"/> group k, then exactly one of <see cref="EncodeGroup"/>, <see cref="DecodeGroup"/> or
/// <see cref="SkipGroup"/> fixes <c>y_k</c>, which conditions groups k+1…
/// </summary>
/// <remarks>
/// Invariant: <c>y_k = sym · 2^F + mean</c>, or <c>y_k = mean</c> for a group that did not arrive, so an encoder and a
/// decoder that saw the same prefix of groups hold bit-identical state. Not thread-safe (one session per tile).
/// With a <see cref="TensorPool"/> the session hands back what it rented: a prediction once its group is committed,
/// the hyper output and the groups once the tile is complete; the latent then belongs to the caller.
/// </remarks>
internal sealed class EntropyTileSession
{
    private readonly ModelPack _pack;
    private readonly int _maxDegreeOfParallelism;
    private readonly TensorPool? _pool;
    private readonly Dictionary<string, Tensor> _inputs = new(StringComparer.Ordinal);
    private readonly I32Tensor _latent;
    private GroupPrediction? _prediction;

    internal EntropyTileSession(ModelPack pack, U8Tensor hyper, int maxDegreeOfParallelism, TensorPool? pool = null)
    {
        _pack = pack;
        _maxDegreeOfParallelism = maxDegreeOfParallelism;
        _pool = pool;
        _inputs["hyper"] = hyper;
        _latent = TensorPool.I32(pool, pack.Layout.LatentChannels, hyper.Height, hyper.Width); // every group's slice is committed before it is read
    }

    /// <summary>The group the next <see cref="Predict"/> refers to; equals <c>Groups</c> when the tile is complete.</summary>
    public int NextGroup { get; private set; }

    public bool IsComplete => NextGroup == _pack.Layout.Groups;

    /// <summary>Runs (once) the context model of <see cref="NextGroup"/>.</summary>
    /// <exception cref="InvalidOperationException">All groups are done.</exception>
    public GroupPrediction Predict()
    {
        if (_prediction is not null)
        {
            return _prediction;
        }

        if (IsComplete)
        {
            throw new InvalidOperationException("All groups of the tile are done.");
        }

        int k = NextGroup;
        Dictionary<string, Tensor> outputs = _pack.ContextGraph(k).Run(_inputs, 0, _maxDegreeOfParallelism, _pool);
        _prediction = new GroupPrediction(k, (I32Tensor)outputs[$"mean{k}"], (I32Tensor)outputs[$"index{k}"]);
        return _prediction;
    }

    /// <summary>
    /// Encoder: derives the symbols of the group from the float latents, <c>sym = floor(y' - mean/2^F + 0.5)</c> in
    /// double (exactly training/export.py <c>int_hyper_and_context</c>), then fixes <c>y_k</c>.
    /// </summary>
    /// <param name="yPrime">The group's gained latents <c>y' = g_a(x)·gain</c>, <c>GroupChannels × h × w</c>.</param>
    /// <returns>The symbols, same layout.</returns>
    /// <exception cref="ArgumentException">Wrong length, or a value that is not finite or too large for a fixed-point latent.</exception>
    public int[] EncodeGroup(ReadOnlySpan<float> yPrime)
    {
        GroupPrediction p = Predict();
        int[] mean = p.Mean.Data;
        CheckLength(yPrime.Length, mean.Length, nameof(yPrime));
        double one = 1 << _pack.Layout.MeanFractionBits;
        long limit = (int.MaxValue >> _pack.Layout.MeanFractionBits) - (1 << 21);
        var symbols = new int[mean.Length];
        for (int i = 0; i < symbols.Length; i++)
        {
            double s = Math.Floor(yPrime[i] - (mean[i] / one) + 0.5);
            if (!(Math.Abs(s) <= limit))
            {
                throw new ArgumentException($"Latent {i} of group {p.Group} is {yPrime[i]}: not finite or out of the fixed-point range.", nameof(yPrime));
            }

            symbols[i] = (int)s;
        }

        Commit(symbols);
        return symbols;
    }

    /// <summary>Decoder: fixes <c>y_k = sym · 2^F + mean</c> from the decoded symbols.</summary>
    /// <param name="symbols">The group's symbols, <c>GroupChannels × h × w</c>.</param>
    /// <exception cref="ArgumentException">Wrong length.</exception>
    /// <exception cref="EdgeCodecFormatException">A symbol is too large for a fixed-point latent (corrupt stream).</exception>
    public void DecodeGroup(ReadOnlySpan<int> symbols)
    {
        GroupPrediction p = Predict();
        CheckLength(symbols.Length, p.Mean.Length, nameof(symbols));
        long limit = (int.MaxValue >> _pack.Layout.MeanFractionBits) - (1 << 21);
        foreach (int s in symbols)
        {
            if (Math.Abs((long)s) > limit)
            {
                throw new EdgeCodecFormatException($"Symbol {s} of group {p.Group} is out of the fixed-point range.");
            }
        }

        Commit(symbols);
    }

    /// <summary>Decoder, group missing: <c>y_k = mean</c>, so later groups see what any decoder with this prefix sees.</summary>
    public void SkipGroup()
    {
        GroupPrediction p = Predict();
        if (_pool is null)
        {
            Commit(new int[p.Mean.Length]);
            return;
        }

        int[] zeros = _pool.RentInts(p.Mean.Length, clear: true);
        Commit(zeros);
        _pool.Return(zeros);
    }

    /// <summary>The tile's fixed-point latent <c>y</c> (all M channels), once every group is done.</summary>
    /// <exception cref="InvalidOperationException">Some group is not done yet.</exception>
    public I32Tensor GetLatent() => IsComplete ? _latent : throw new InvalidOperationException($"Group {NextGroup} is not done yet.");

    private void Commit(ReadOnlySpan<int> symbols)
    {
        GroupPrediction p = _prediction!;
        int shift = _pack.Layout.MeanFractionBits;
        var yk = TensorPool.I32(_pool, p.Mean.Channels, p.Mean.Height, p.Mean.Width);
        int[] mean = p.Mean.Data;
        for (int i = 0; i < yk.Data.Length; i++)
        {
            yk.Data[i] = (symbols[i] << shift) + mean[i];
        }

        yk.Data.CopyTo(_latent.Data, p.Group * yk.Length);
        _inputs[$"y{p.Group}"] = yk;
        _prediction = null;
        NextGroup++;
        if (_pool is not null)
        {
            // A pooled session's prediction is read by the caller only until the group is committed; once the last
            // group is in, only the latent is read, and it goes to the caller.
            _pool.Return(p.Mean);
            _pool.Return(p.Index);
            if (IsComplete)
            {
                foreach (Tensor input in _inputs.Values)
                {
                    _pool.Return(input);
                }

                _inputs.Clear();
            }
        }
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} values (GroupChannels x h x w), got {actual}.", name);
        }
    }
}
