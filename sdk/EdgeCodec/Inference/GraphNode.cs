namespace EdgeCodec.Inference;

/// <summary>One node of an integer graph: named inputs, one named output, exact integer semantics.</summary>
/// <remarks>Nodes are immutable once built and validated by the pack loader, so one graph can run on many threads.</remarks>
internal abstract class GraphNode
{
    private protected GraphNode(string op, IReadOnlyList<string> inputs, string output)
    {
        Op = op;
        Inputs = inputs;
        Output = output;
    }

    /// <summary>The spec's node kind: <c>quantize</c>, <c>conv</c> or <c>add</c>.</summary>
    public string Op { get; }

    public IReadOnlyList<string> Inputs { get; }

    public string Output { get; }

    /// <summary>Computes the output from the resolved inputs (same order as <see cref="Inputs"/>).</summary>
    /// <param name="inputs">The inputs, in the order of <see cref="Inputs"/>.</param>
    /// <param name="quality">The quality level (rows of per-level constants).</param>
    /// <param name="maxDegreeOfParallelism">Threads the op may use.</param>
    /// <param name="pool">Where the output's array comes from; null: a new one. Every node returns a tensor of its own
    /// (never one of its inputs), so a graph can hand back each intermediate after its last reader.</param>
    /// <exception cref="ArgumentException">An input has the wrong kind or shape.</exception>
    public abstract Tensor Execute(IReadOnlyList<Tensor> inputs, int quality, int maxDegreeOfParallelism, TensorPool? pool = null);

    private protected T Input<T>(IReadOnlyList<Tensor> inputs, int i)
        where T : Tensor
        => inputs[i] as T ?? throw new ArgumentException($"{Op} node '{Output}': input '{Inputs[i]}' must be a {typeof(T).Name}, got {inputs[i]}.");
}
