using EdgeCodec.Backends.Cpu.Check;
using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Inference;

namespace EdgeCodec.Backends.Cpu.Tests;

/// <summary>Every kernel path of this process against the scalar reference engine, exactly.</summary>
public sealed class KernelPathTests
{
    public static TheoryData<CpuIsa> Paths() => [.. CpuBackend.SupportedIsas];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Random_and_worst_case_sweep_is_identical(CpuIsa isa)
    {
        List<string> failures = Conformance.Sweep(KernelTable.For(isa), 42 + (int)isa, 150);
        Assert.Empty(failures);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_channel_and_width_tail(CpuIsa isa)
    {
        KernelTable table = KernelTable.For(isa);
        var rng = new Random(5);
        foreach (int k in new[] { 1, 3 })
        {
            for (int o = 1; o <= 33; o++)
            {
                int w = o;
                int cin = 1 + ((o * 7) % 33);
                ConvNode node = Conformance.RandomConv(rng, cin, o, k, d2s: false, u8: o % 3 != 0);
                Assert.Null(Conformance.ConvCase(table, node, Conformance.RandomParts(rng, cin, 1, 1 + (o % 4), w), 1));
            }
        }

        // Depth-to-space with output channel counts crossing 16-lane blocks (12 = the RGB layer, 4..68).
        for (int o = 4; o <= 68; o += 4)
        {
            ConvNode node = Conformance.RandomConv(rng, 5, o, 3, d2s: true, u8: true);
            Assert.Null(Conformance.ConvCase(table, node, Conformance.RandomParts(rng, 5, 1, 3, 9), 2));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Saturation_edge_all_255_with_extreme_weights(CpuIsa isa)
    {
        KernelTable table = KernelTable.For(isa);
        var rng = new Random(9);
        foreach (bool u8 in new[] { true, false })
        {
            foreach (int k in new[] { 1, 3 })
            {
                ConvNode node = Conformance.RandomConv(rng, 128, 64, k, d2s: u8, u8: u8, worst: true);
                Assert.Null(Conformance.ConvCase(table, node, Conformance.RandomParts(rng, 128, 2, 5, 6, worst: true), 2));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Accumulator_wraps_like_the_reference_beyond_the_loader_bound(CpuIsa isa)
    {
        // 255 · 128 · 70000 > 2^31: the loader would reject it, but the engine must still agree bit for bit.
        var rng = new Random(3);
        const int Cin = 70000;
        var weight = new sbyte[16 * Cin];
        weight.AsSpan().Fill(-128);
        var node = new ConvNode(["x"], "y", weight, 16, Cin, 1, new int[16], [.. Enumerable.Repeat(3, 16)], [.. Enumerable.Repeat(1, 16)],
            false, 0, int.MinValue, int.MaxValue, 0);
        Assert.Null(Conformance.ConvCase(KernelTable.For(isa), node, Conformance.RandomParts(rng, Cin, 1, 1, 2, worst: true), 1));
    }

    [Fact]
    public void Isa_cap_selects_the_best_path_at_or_below_it()
    {
        Assert.Equal(CpuIsa.Scalar, CpuBackend.SelectIsa(CpuIsa.Scalar));
        Assert.Equal(CpuBackend.SupportedIsas[0], CpuBackend.SelectIsa(CpuIsa.Avx512Vnni));
        Assert.Equal(CpuIsa.Scalar, CpuBackend.SupportedIsas[^1]);
        foreach (CpuIsa cap in Enum.GetValues<CpuIsa>())
        {
            Assert.True(CpuBackend.SelectIsa(cap) <= cap);
            Assert.Contains(CpuBackend.SelectIsa(cap), CpuBackend.SupportedIsas);
        }
    }
}
