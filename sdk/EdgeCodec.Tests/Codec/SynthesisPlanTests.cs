using EdgeCodec.Codec;

namespace EdgeCodec.Tests.Codec;

public sealed class SynthesisPlanTests
{
    [Theory]
    [InlineData(1000, 700, 256, 1)]
    [InlineData(1000, 700, 256, 2)]
    [InlineData(1000, 700, 256, 3)]
    [InlineData(3840, 2160, 256, 3)]
    [InlineData(64, 64, 256, 4)]
    public void Regions_cover_every_tile_exactly_once_and_stay_within_the_budget(int width, int height, int tileSize, int regionTiles)
    {
        var grid = new TileGrid(width, height, tileSize);
        var regions = SynthesisPlan.Build(grid, regionTiles, (_, _) => true);
        int[] covered = Coverage(grid, regions);
        Assert.All(covered, n => Assert.Equal(1, n));
        int side = regionTiles * tileSize / TileGrid.LatentStride;
        Assert.All(regions, r => Assert.True(r.Width <= side && r.Height <= side, $"{r} exceeds {side} latents"));
        int blocks = ((grid.Columns + regionTiles - 1) / regionTiles) * ((grid.Rows + regionTiles - 1) / regionTiles);
        Assert.Equal(blocks, regions.Count);
    }

    [Fact]
    public void Tiles_on_different_backends_never_share_a_region()
    {
        // 4x3 tiles; tile 5 (row 1, column 1) runs an adapter, the rest the base.
        var grid = new TileGrid(1024, 768, 256);
        int[] backend = new int[grid.Count];
        backend[5] = 7;
        var regions = SynthesisPlan.Build(grid, 2, (a, b) => backend[a] == backend[b]);
        Assert.All(Coverage(grid, regions), n => Assert.Equal(1, n));
        foreach (var r in regions)
        {
            var tiles = TilesOf(grid, r).ToList();
            Assert.All(tiles, t => Assert.Equal(backend[r.FirstTile], backend[t]));
        }

        // The mixed top-left 2x2 block splits into row runs; the other three blocks stay whole.
        Assert.Contains(regions, r => TilesOf(grid, r).SequenceEqual([5]));
        Assert.Equal(3 + 3, regions.Count);
    }

    [Fact]
    public void Region_budget_is_rounded_down_to_whole_tiles()
    {
        var grid = new TileGrid(2048, 2048, 256);
        Assert.Equal(3, SynthesisPlan.TilesPerSide(grid, 768));
        Assert.Equal(2, SynthesisPlan.TilesPerSide(grid, 700));
        Assert.Equal(1, SynthesisPlan.TilesPerSide(grid, 0));
    }

    private static IEnumerable<int> TilesOf(TileGrid grid, SynthesisPlan.Region r)
    {
        for (int t = 0; t < grid.Count; t++)
        {
            var (x, y, w, h) = grid.LatentRect(t);
            if (x >= r.X && y >= r.Y && x + w <= r.X + r.Width && y + h <= r.Y + r.Height)
            {
                yield return t;
            }
        }
    }

    private static int[] Coverage(TileGrid grid, List<SynthesisPlan.Region> regions)
    {
        int[] covered = new int[grid.Count];
        foreach (var r in regions)
        {
            foreach (int t in TilesOf(grid, r))
            {
                covered[t]++;
            }
        }

        return covered;
    }
}
