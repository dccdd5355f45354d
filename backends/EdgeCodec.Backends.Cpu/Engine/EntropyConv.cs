using System.Runtime.CompilerServices;
using EdgeCodec.Inference;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The SIMD conv behind <c>IntegerKernels.Conv</c> (hyper decoder and context models): bit-identical to
/// <c>ConvKernel.Run</c>, proven per dispatch path by the tests, so it may serve the entropy-critical path.
/// </summary>
internal sealed class EntropyConv
{
    private readonly ConditionalWeakTable<ConvNode, PackedConv> _packed = [];
    private readonly ConditionalWeakTable<ConvNode, PackedConv>.CreateValueCallback _pack;

    public EntropyConv(KernelTable table)
    {
        Table = table;
        _pack = node => new PackedConv(node, table); // one delegate, not one per call
    }

    public KernelTable Table { get; }

    public Tensor Run(ConvNode node, IReadOnlyList<U8Tensor> parts, int maxDegreeOfParallelism, TensorPool? pool)
        => CpuOps.Conv(_packed.GetValue(node, _pack), parts, maxDegreeOfParallelism, pool);
}
