namespace EdgeCodec.Inference;

/// <summary>
/// <c>quantize</c>: <c>out[c] = clamp(zp + requant(x[c], mult[c], shift[c]), 0, 255)</c>, i32 → u8.
/// </summary>
/// <remarks>
/// With <see cref="Rows"/> &gt; 1 the multipliers are a <c>[Q, C]</c> table and the quality level picks the row
/// (the synthesis input, where the inverse gain of the level is folded in).
/// </remarks>
internal sealed class QuantizeNode : GraphNode
{
    public QuantizeNode(string input, string output, int channels, int rows, int[] mult, int[] shift, int zeroPoint)
        : base("quantize", [input], output)
    {
        Channels = channels;
        Rows = rows;
        Mult = mult;
        Shift = shift;
        ZeroPoint = zeroPoint;
    }

    public int Channels { get; }

    /// <summary>1 for a per-channel <c>[C]</c> table, Q for a per-quality <c>[Q, C]</c> table.</summary>
    public int Rows { get; }

    public int[] Mult { get; }

    public int[] Shift { get; }

    public int ZeroPoint { get; }

    public override Tensor Execute(IReadOnlyList<Tensor> inputs, int quality, int maxDegreeOfParallelism, TensorPool? pool = null)
    {
        I32Tensor x = Input<I32Tensor>(inputs, 0);
        if (x.Channels != Channels)
        {
            throw new ArgumentException($"quantize '{Output}': expected {Channels} channels, got {x}.");
        }

        int row = Rows == 1 ? 0 : quality;
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(quality), quality, $"quantize '{Output}' has {Rows} quality rows.");
        }

        return QuantizeKernel.Run(x, Mult.AsSpan(row * Channels, Channels), Shift.AsSpan(row * Channels, Channels), ZeroPoint, pool);
    }
}
