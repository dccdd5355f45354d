namespace EdgeCodec.Codec;

/// <summary>
/// Groups a frame's tiles into synthesis regions: rectangles of neighbouring tiles that share one synthesis backend
/// (the base, or one adapter), at most <c>regionTiles × regionTiles</c> tiles each. Each region is synthesised as one
/// window with the pack's halo around it, so the halo is paid once per region instead of once per tile.
/// </summary>
/// <remarks>
/// Exactness: a tile's pixels depend only on latents within the synthesis receptive field, which the halo covers, so
/// any grouping gives the same pixels on a bit-exact backend (tests compare per-tile, region and whole-image decodes).
/// Memory stays bounded by the region size, not the image size. A block of tiles whose backends differ falls back to
/// runs of equal backends along each tile row.
/// </remarks>
internal static class SynthesisPlan
{
    /// <summary>One region: its rectangle in latent units and the index of the tile that names its backend.</summary>
    public readonly record struct Region(int X, int Y, int Width, int Height, int FirstTile);

    /// <summary>Tiles per region side for a region budget of <paramref name="regionPixels"/> (at least 1).</summary>
    public static int TilesPerSide(TileGrid grid, int regionPixels) => Math.Max(1, regionPixels / grid.TileSize);

    /// <summary>The regions covering every tile exactly once.</summary>
    /// <param name="grid">The frame geometry.</param>
    /// <param name="regionTiles">Maximum tiles per region side (1 = one window per tile).</param>
    /// <param name="sameBackend">Whether two tiles are synthesised by the same backend instance.</param>
    public static List<Region> Build(TileGrid grid, int regionTiles, Func<int, int, bool> sameBackend)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(regionTiles);
        var regions = new List<Region>();
        for (int by = 0; by < grid.Rows; by += regionTiles)
        {
            int rows = Math.Min(regionTiles, grid.Rows - by);
            for (int bx = 0; bx < grid.Columns; bx += regionTiles)
            {
                int cols = Math.Min(regionTiles, grid.Columns - bx);
                int first = (by * grid.Columns) + bx;
                if (Uniform(grid, first, rows, cols, sameBackend))
                {
                    regions.Add(Span(grid, first, first + ((rows - 1) * grid.Columns) + cols - 1));
                    continue;
                }

                for (int r = 0; r < rows; r++)
                {
                    int rowFirst = first + (r * grid.Columns);
                    int start = rowFirst;
                    for (int c = 1; c <= cols; c++)
                    {
                        int tile = rowFirst + c;
                        if (c == cols || !sameBackend(start, tile))
                        {
                            regions.Add(Span(grid, start, tile - 1));
                            start = tile;
                        }
                    }
                }
            }
        }

        return regions;
    }

    private static bool Uniform(TileGrid grid, int first, int rows, int cols, Func<int, int, bool> sameBackend)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                if (!sameBackend(first, first + (r * grid.Columns) + c))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>The latent rectangle from tile <paramref name="first"/> (top left) to tile <paramref name="last"/> (bottom right).</summary>
    private static Region Span(TileGrid grid, int first, int last)
    {
        var (x0, y0, _, _) = grid.LatentRect(first);
        var (x1, y1, w1, h1) = grid.LatentRect(last);
        return new Region(x0, y0, x1 + w1 - x0, y1 + h1 - y0, first);
    }
}
