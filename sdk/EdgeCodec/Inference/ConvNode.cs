namespace EdgeCodec.Inference;

/// <summary>
/// <c>conv</c>: stride-1 "same" convolution (k ∈ {1, 3}) over the channel concatenation of u8 inputs, int32 bias,
/// per-output-channel requantisation, clamp, optional depth-to-space 2 (CRD).
/// </summary>
/// <remarks>
/// Invariant checked by the loader: <c>255 · 127 · k² · Cin &lt; 2^31</c>, so the sum of products fits an
/// <see cref="int"/> accumulator exactly; the bias is then added in 64 bits like the reference.
/// </remarks>
internal sealed class ConvNode : GraphNode
{
    public ConvNode(IReadOnlyList<string> inputs, string output, sbyte[] weight, int outChannels, int inChannels, int kernel,
        int[] bias, int[] mult, int[] shift, bool outputU8, int zeroPoint, int lo, int hi, int depthToSpace)
        : base("conv", inputs, output)
    {
        Weight = weight;
        OutChannels = outChannels;
        InChannels = inChannels;
        Kernel = kernel;
        Bias = bias;
        Mult = mult;
        Shift = shift;
        OutputU8 = outputU8;
        ZeroPoint = zeroPoint;
        Lo = lo;
        Hi = hi;
        DepthToSpace = depthToSpace;
    }

    /// <summary><c>[O, Cin, k, k]</c>, row-major.</summary>
    public sbyte[] Weight { get; }

    public int OutChannels { get; }

    public int InChannels { get; }

    public int Kernel { get; }

    public int[] Bias { get; }

    public int[] Mult { get; }

    public int[] Shift { get; }

    /// <summary><see langword="true"/>: u8 output with zero point <see cref="ZeroPoint"/>; otherwise i32.</summary>
    public bool OutputU8 { get; }

    public int ZeroPoint { get; }

    public int Lo { get; }

    public int Hi { get; }

    /// <summary>0 (none) or 2 (depth-to-space, CRD: <c>out[c, 2y+i, 2x+j] = in[4c + 2i + j, y, x]</c>).</summary>
    public int DepthToSpace { get; }

    public override Tensor Execute(IReadOnlyList<Tensor> inputs, int quality, int maxDegreeOfParallelism, TensorPool? pool = null)
        => Execute(inputs, maxDegreeOfParallelism, ConvKernel.Run, pool);

    /// <summary>Runs with an explicit kernel (the scalar reference or a bit-exact replacement from <see cref="IntegerKernels"/>).</summary>
    internal Tensor Execute(IReadOnlyList<Tensor> inputs, int maxDegreeOfParallelism, ConvKernelFunc kernel, TensorPool? pool = null)
    {
        var parts = new U8Tensor[inputs.Count];
        int channels = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Input<U8Tensor>(inputs, i);
            if (parts[i].Height != parts[0].Height || parts[i].Width != parts[0].Width)
            {
                throw new ArgumentException($"conv '{Output}': input {parts[i]} differs spatially from {parts[0]}.");
            }

            channels += parts[i].Channels;
        }

        if (channels != InChannels)
        {
            throw new ArgumentException($"conv '{Output}': inputs have {channels} channels, the weight expects {InChannels}.");
        }

        return kernel(this, parts, maxDegreeOfParallelism, pool);
    }
}
