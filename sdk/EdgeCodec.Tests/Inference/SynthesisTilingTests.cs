using EdgeCodec.Imaging;
using EdgeCodec.Inference;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Inference;

/// <summary>Tiled synthesis (halo = layout.synthesis_halo, clipped at the border) must equal the whole-image synthesis exactly.</summary>
public sealed class SynthesisTilingTests
{
    [PackFact]
    public void Tiled_synthesis_equals_whole_synthesis_on_random_latents()
    {
        ModelPack pack = TestPacks.Pack;
        var rng = new Random(11);
        // 6x10 latents with 4-latent tiles: interior, edge and corner tiles; some windows stop exactly halo latents
        // short of the border, others are clipped by it.
        var y = new I32Tensor(pack.Layout.LatentChannels, 6, 10);
        for (int i = 0; i < y.Length; i++)
        {
            y.Data[i] = rng.Next(-30 * 16, 30 * 16);
        }

        var synthesis = new IntegerSynthesis(pack);
        int quality = rng.Next(pack.QualityLevels.Count);
        RgbImage whole = synthesis.Run(y, quality);
        RgbImage tiled = synthesis.RunTiled(y, quality, 4, maxDegreeOfParallelism: 2);
        Assert.Equal((whole.Width, whole.Height), (tiled.Width, tiled.Height));
        int bad = whole.Pixels.AsSpan().CommonPrefixLength(tiled.Pixels);
        Assert.True(bad == whole.Pixels.Length, $"first difference at pixel ({bad / 3 % whole.Width}, {bad / 3 / whole.Width})");
    }

    [PackFact]
    public void Tiles_larger_than_the_image_are_the_whole_image()
    {
        ModelPack pack = TestPacks.Pack;
        var y = new I32Tensor(pack.Layout.LatentChannels, 2, 3);
        new Random(5).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.Data.AsSpan()));
        var synthesis = new IntegerSynthesis(pack);
        Assert.Equal(synthesis.Run(y, 0).Pixels, synthesis.RunTiled(y, 0, pack.Layout.TileSize / pack.Layout.LatentStride).Pixels);
    }
}
