namespace EdgeCodec.Inference;

/// <summary>
/// An interpreter for one named integer graph of a model pack (<c>hyper</c>, <c>context{k}</c>, <c>synthesis</c>):
/// runs its nodes in order over an environment of named tensors.
/// </summary>
/// <remarks>
/// Immutable and thread-safe; every call allocates its own tensors. The node list was validated by the loader
/// (names resolve, channel counts, kinds and weight shapes agree), so a run can only fail on bad caller inputs.
/// </remarks>
internal sealed class IntegerGraph
{
    public IntegerGraph(string name, IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphInput> inputs, IReadOnlyList<string> outputs, int qualityLevels)
    {
        Name = name;
        Nodes = nodes;
        Inputs = inputs;
        Outputs = outputs;
        QualityLevels = qualityLevels;
        _releaseAfter = ReleasePlan(nodes, inputs, outputs);
    }

    private readonly string[][] _releaseAfter;

    public string Name { get; }

    public IReadOnlyList<GraphNode> Nodes { get; }

    /// <summary>The tensors the caller must provide (names read by nodes but produced by none).</summary>
    public IReadOnlyList<GraphInput> Inputs { get; }

    /// <summary>The tensors the graph produces that no node of the graph consumes.</summary>
    public IReadOnlyList<string> Outputs { get; }

    public int QualityLevels { get; }

    /// <summary>Runs the graph and returns its <see cref="Outputs"/>.</summary>
    /// <param name="inputs">One tensor per entry of <see cref="Inputs"/>; extra entries are ignored.</param>
    /// <param name="quality">Quality level, selects the row of per-quality quantize tables.</param>
    /// <param name="maxDegreeOfParallelism">1 runs on the calling thread only; the result never depends on it.</param>
    /// <exception cref="ArgumentException">An input is missing or has the wrong kind, channel count or zero point.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is not a level of the pack.</exception>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, int quality, int maxDegreeOfParallelism = 1, TensorPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegative(quality);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(quality, QualityLevels);
        var env = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (GraphInput input in Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out Tensor? t))
            {
                throw new ArgumentException($"Graph '{Name}' needs input '{input.Name}'.", nameof(inputs));
            }

            bool ok = input.IsU8 ? t is U8Tensor u && u.ZeroPoint == input.ZeroPoint : t is I32Tensor;
            if (!ok || t.Channels != input.Channels)
            {
                string kind = input.IsU8 ? $"u8 (zero point {input.ZeroPoint})" : "i32";
                throw new ArgumentException($"Graph '{Name}': input '{input.Name}' must be {kind} with {input.Channels} channels, got {t}.", nameof(inputs));
            }

            env[input.Name] = t;
        }

        var args = new List<Tensor>(4);
        ConvKernelFunc conv = IntegerKernels.ConvFor(Name);
        for (int i = 0; i < Nodes.Count; i++)
        {
            GraphNode node = Nodes[i];
            args.Clear();
            foreach (string name in node.Inputs)
            {
                args.Add(env[name]);
            }

            env[node.Output] = node is ConvNode c ? c.Execute(args, maxDegreeOfParallelism, conv, pool) : node.Execute(args, quality, maxDegreeOfParallelism, pool);
            if (pool is not null)
            {
                foreach (string dead in _releaseAfter[i])
                {
                    pool.Return(env[dead]);
                    env.Remove(dead);
                }
            }
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string name in Outputs)
        {
            result[name] = env[name];
        }

        return result;
    }

    /// <summary>
    /// For each node, the intermediates it reads last: a pooled run hands them back right after it. Graph inputs belong
    /// to the caller and outputs to the result; an intermediate nothing reads is left to the garbage collector.
    /// </summary>
    private static string[][] ReleasePlan(IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphInput> inputs, IReadOnlyList<string> outputs)
    {
        var kept = new HashSet<string>(outputs, StringComparer.Ordinal);
        foreach (GraphInput input in inputs)
        {
            kept.Add(input.Name);
        }

        var lastReader = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (string name in nodes[i].Inputs)
            {
                lastReader[name] = i;
            }
        }

        var plan = new List<string>[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            plan[i] = [];
        }

        foreach (GraphNode node in nodes)
        {
            if (!kept.Contains(node.Output) && lastReader.TryGetValue(node.Output, out int last))
            {
                plan[last].Add(node.Output);
            }
        }

        return [.. plan.Select(p => p.ToArray())];
    }
}
