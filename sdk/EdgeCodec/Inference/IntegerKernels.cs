namespace EdgeCodec.Inference;

/// <summary>Signature of a <c>conv</c> kernel: same contract as <see cref="ConvKernel.Run"/>.</summary>
internal delegate Tensor ConvKernelFunc(ConvNode node, IReadOnlyList<U8Tensor> parts, int maxDegreeOfParallelism, TensorPool? pool);

/// <summary>
/// The kernel table of the entropy-critical integer graphs (<c>hyper</c>, <c>context{k}</c>). Defaults to the scalar
/// reference. Every other graph (the synthesis, the <c>reference</c> backend) always runs <see cref="ScalarConv"/>, so
/// the reference stays the reference.
/// </summary>
/// <remarks>
/// <para>
/// Invariant: a replacement must be <b>bit-identical</b> to <see cref="ConvKernel.Run"/> for every node, input, zero
/// point, clamp range and degree of parallelism. Only then may it serve the entropy-critical path, where encoder and
/// decoder must derive the same tables on every machine. The CPU SIMD backend
/// (<c>EdgeCodec.Backends.Cpu.CpuBackend.Register()</c>) installs its conv here because its tests prove exactly that on
/// every dispatch path.
/// </para>
/// <para><see cref="ScalarConv"/> stays reachable so tests can always compare against the reference.</para>
/// </remarks>
internal static class IntegerKernels
{
    private static volatile ConvKernelFunc s_conv = ConvKernel.Run;

    /// <summary>The scalar reference conv (ground truth).</summary>
    public static ConvKernelFunc ScalarConv { get; } = ConvKernel.Run;

    /// <summary>The conv of the entropy-critical graphs; set once at start-up by a bit-exact backend.</summary>
    public static ConvKernelFunc Conv
    {
        get => s_conv;
        set => s_conv = value ?? ScalarConv;
    }

    /// <summary>The conv graph <paramref name="graphName"/> runs: <see cref="Conv"/> for <c>hyper</c> and <c>context{k}</c>, else the reference.</summary>
    public static ConvKernelFunc ConvFor(string graphName)
        => graphName == "hyper" || graphName.StartsWith("context", StringComparison.Ordinal) ? s_conv : ScalarConv;

    /// <summary>Restores the scalar reference.</summary>
    public static void Reset() => s_conv = ScalarConv;
}
