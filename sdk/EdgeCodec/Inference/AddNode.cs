namespace EdgeCodec.Inference;

/// <summary>
/// <c>add</c>: <c>out = clamp(zp + rshift_round((a - zp_a)·mult_a + (b - zp_b)·mult_b, shift), lo, hi)</c>, u8 + u8 → u8.
/// </summary>
internal sealed class AddNode : GraphNode
{
    public AddNode(string inputA, string inputB, string output, int multA, int multB, int shift, int zeroPoint, int lo, int hi)
        : base("add", [inputA, inputB], output)
    {
        MultA = multA;
        MultB = multB;
        Shift = shift;
        ZeroPoint = zeroPoint;
        Lo = lo;
        Hi = hi;
    }

    public int MultA { get; }

    public int MultB { get; }

    public int Shift { get; }

    public int ZeroPoint { get; }

    public int Lo { get; }

    public int Hi { get; }

    public override Tensor Execute(IReadOnlyList<Tensor> inputs, int quality, int maxDegreeOfParallelism, TensorPool? pool = null)
    {
        U8Tensor a = Input<U8Tensor>(inputs, 0);
        U8Tensor b = Input<U8Tensor>(inputs, 1);
        if (!a.SameShape(b))
        {
            throw new ArgumentException($"add '{Output}': inputs {a} and {b} differ in shape.");
        }

        return AddKernel.Run(a, b, this, pool);
    }
}
