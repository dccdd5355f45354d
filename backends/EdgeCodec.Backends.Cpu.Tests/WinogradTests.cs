using EdgeCodec.Backends.Cpu.Check;
using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Inference;

namespace EdgeCodec.Backends.Cpu.Tests;

/// <summary>The exact Winograd F(2×2, 3×3) path: where it is used, its exactness bound, and its tails.</summary>
public sealed class WinogradTests
{
    public static TheoryData<CpuIsa> WinogradPaths() => [.. CpuBackend.SupportedIsas.Where(i => KernelTable.For(i).Isa == i && HasGemm(i))];

    [Fact]
    public void Used_for_3x3_convs_only_on_paths_with_a_winograd_gemm()
    {
        var rng = new Random(1);
        foreach (CpuIsa isa in CpuBackend.SupportedIsas)
        {
            var k3 = new PackedConv(Conformance.RandomConv(rng, 16, 32, 3, d2s: false, u8: true), KernelTable.For(isa));
            var k1 = new PackedConv(Conformance.RandomConv(rng, 16, 32, 1, d2s: false, u8: true), KernelTable.For(isa));
            Assert.Equal(HasGemm(isa), k3.HasWinograd);
            Assert.False(k1.HasWinograd);
        }
    }

    [Theory]
    [MemberData(nameof(WinogradPaths))]
    public void Exact_at_its_widest_input_and_falls_back_beyond_it(CpuIsa isa)
    {
        // All-255 inputs against all -128 weights: |Y| = 255·128·9·512 = 1.5·10^8 at the widest input Winograd takes
        // (4·|Y| = 6·10^8 in wrapping int32 is still exact); 516 channels exceed the scratch limit and use the direct conv.
        KernelTable table = KernelTable.For(isa);
        var rng = new Random(5);
        foreach ((int cin, bool winograd) in new[] { (WinogradConv.MaxChannelStride, true), (WinogradConv.MaxChannelStride + 4, false) })
        {
            var weight = new sbyte[16 * cin * 9];
            weight.AsSpan().Fill(-128);
            var node = new ConvNode(["x"], "y", weight, 16, cin, 3, new int[16], [.. Enumerable.Repeat(3, 16)], [.. Enumerable.Repeat(1, 16)],
                false, 0, int.MinValue, int.MaxValue, 0);
            Assert.Equal(winograd, new PackedConv(node, table).HasWinograd);
            Assert.Null(Conformance.ConvCase(table, node, Conformance.RandomParts(rng, cin, 1, 3, 4, worst: true), 1));
        }
    }

    [Theory]
    [MemberData(nameof(WinogradPaths))]
    public void Odd_sizes_partial_strips_and_threads_match_the_reference(CpuIsa isa)
    {
        // Odd rows/columns go to the direct kernel, strips narrower than 8 pixels to partial GEMMs; channel counts that are
        // not a multiple of 16 use the scalar input transform for the tail.
        KernelTable table = KernelTable.For(isa);
        var rng = new Random(11);
        foreach (int cin in new[] { 4, 20, 96 })
        {
            foreach ((int h, int w) in new[] { (2, 2), (3, 3), (2, 9), (7, 4), (9, 17), (16, 10) })
            {
                foreach (bool d2s in new[] { false, true })
                {
                    ConvNode node = Conformance.RandomConv(rng, cin, d2s ? 48 : 40, 3, d2s, u8: true, worst: rng.Next(3) == 0);
                    Assert.True(new PackedConv(node, table).HasWinograd);
                    Assert.Null(Conformance.ConvCase(table, node, Conformance.RandomParts(rng, cin, 1 + rng.Next(2), h, w, worst: rng.Next(4) == 0), 1 + rng.Next(2)));
                }
            }
        }
    }

    [Fact]
    public void Option_turns_it_off_with_identical_pixels()
    {
        var on = new CpuBackend(new CpuBackendOptions());
        var off = new CpuBackend(new CpuBackendOptions { Winograd = false });
        Assert.Equal(HasGemm(on.Isa), on.UsesWinograd);
        Assert.False(off.UsesWinograd);
        Assert.Equal(on.Isa, off.Isa);
        var rng = new Random(4);
        ConvNode node = Conformance.RandomConv(rng, 24, 32, 3, d2s: true, u8: true);
        var parts = Conformance.RandomParts(rng, 24, 1, 9, 11);
        Assert.True(Conformance.Same(CpuOps.Conv(new PackedConv(node, KernelTable.For(on.Isa)), parts, 2),
            CpuOps.Conv(new PackedConv(node, KernelTable.For(on.Isa).Direct), parts, 2)));
    }

    private static bool HasGemm(CpuIsa isa) => KernelTable.For(isa).HasWinograd;
}
