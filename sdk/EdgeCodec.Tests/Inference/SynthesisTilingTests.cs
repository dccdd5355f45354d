using EdgeCodec.Backends;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Inference;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Inference;

/// <summary>
/// The decoder's tiled synthesis (<see cref="TileSynthesis"/> over <see cref="SynthesisPlan"/> regions, halo =
/// layout.synthesis_halo, clipped at the border) must equal the whole-image integer synthesis exactly.
/// </summary>
public sealed class SynthesisTilingTests
{
    [PackTheory]
    [InlineData(1)] // one window per 4-latent tile: interior, edge and corner windows, some clipped by the border
    [InlineData(2)] // 2x2-tile regions, the last column and row narrower
    [InlineData(9)] // one region larger than the image
    public void Tiled_synthesis_equals_whole_synthesis_on_random_latents(int regionTiles)
    {
        ModelPack pack = TestPacks.Pack;
        var rng = new Random(11);
        var grid = new TileGrid(320, 192, 64); // 20x12 latents in 5x3 tiles of 4x4 latents
        var y = new I32Tensor(pack.Layout.LatentChannels, grid.LatentHeight, grid.LatentWidth);
        for (int i = 0; i < y.Length; i++)
        {
            y.Data[i] = rng.Next(-30 * 16, 30 * 16);
        }

        int quality = rng.Next(pack.QualityLevels.Count);
        RgbImage whole = new IntegerSynthesis(pack).Run(y, quality);
        var yq = (U8Tensor)((QuantizeNode)pack.GetGraph("synthesis").Nodes[0]).Execute([y], quality, 1);
        using ISynthesisBackend reference = DecoderBackends.Get("reference").Create(pack, new BackendOptions { Threads = 2 });
        var tiled = new RgbImage(grid.Width, grid.Height);
        foreach (var r in SynthesisPlan.Build(grid, regionTiles, (_, _) => true))
        {
            TileSynthesis.Run(reference, yq, grid, (r.X, r.Y, r.Width, r.Height), pack.Layout.SynthesisHalo, tiled);
        }

        Assert.Equal((whole.Width, whole.Height), (tiled.Width, tiled.Height));
        int bad = whole.Pixels.AsSpan().CommonPrefixLength(tiled.Pixels);
        Assert.True(bad == whole.Pixels.Length, $"first difference at pixel ({bad / 3 % whole.Width}, {bad / 3 / whole.Width})");
    }
}
