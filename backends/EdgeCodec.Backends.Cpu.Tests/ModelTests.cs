using EdgeCodec.Backends.Cpu.Check;
using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Tests;

/// <summary>The real model pack: synthesis windows and the entropy-critical graphs, every path, exact.</summary>
public sealed class ModelTests
{
    private static readonly Lazy<ModelPack> s_pack = new(ModelPack.LoadDefault);

    public static TheoryData<CpuIsa> Paths() => [.. CpuBackend.SupportedIsas];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Synthesis_of_a_5x7_window_equals_the_reference_bytes(CpuIsa isa)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            Assert.Null(Conformance.Synthesis(s_pack.Value, KernelTable.For(isa), 5, 7, 11, threads));
        }

        // Window sizes change between calls on one instance (tiles at image edges, 3-tile-wide images): buffers are
        // resized, only their borders rewritten; larger, smaller, narrower and repeated windows must all stay exact.
        Assert.Null(Conformance.SynthesisSequence(s_pack.Value, KernelTable.For(isa), [(5, 7), (6, 9), (3, 4), (6, 9), (1, 3), (5, 7)], 12, 2));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Hyper_and_context_graphs_equal_the_reference(CpuIsa isa)
    {
        ModelPack pack = s_pack.Value;
        KernelTable table = KernelTable.For(isa);
        I32Tensor z = Conformance.RandomZ(pack, 2, 3, 1);
        Assert.Null(Conformance.Graph(pack, table, "hyper", new Dictionary<string, Tensor> { ["z"] = z }));
        var hyper = (U8Tensor)Conformance.RunGraph(pack.GetGraph("hyper"), new Dictionary<string, Tensor> { ["z"] = z }, (n, p) => ConvKernel.Run(n, p, 1))["hyper"];
        var rng = new Random(2);
        var inputs = new Dictionary<string, Tensor> { ["hyper"] = hyper };
        for (int k = 0; k < pack.Layout.Groups; k++)
        {
            Assert.Null(Conformance.Graph(pack, table, $"context{k}", inputs));
            var y = new I32Tensor(pack.Layout.GroupChannels, hyper.Height, hyper.Width);
            for (int i = 0; i < y.Length; i++)
            {
                y.Data[i] = rng.Next(-400, 400);
            }

            inputs[$"y{k}"] = y;
        }
    }
}
