namespace EdgeCodec.Codec;

/// <summary>
/// Geometry of an image in pixels, latents (1/16) and hyper-latents (1/64), and its tiles.
/// The image is padded to a multiple of 64; tiles are <see cref="TileSize"/> pixels (a multiple of 64),
/// the last column and row of tiles may be narrower.
/// </summary>
internal sealed class TileGrid
{
    public const int HyperStride = 64;
    public const int LatentStride = 16;

    public TileGrid(int width, int height, int tileSize)
    {
        if (tileSize <= 0 || tileSize % HyperStride != 0)
        {
            throw new EdgeCodecFormatException($"Tile size {tileSize} is not a positive multiple of {HyperStride}.");
        }

        Width = width;
        Height = height;
        TileSize = tileSize;
        PaddedWidth = RoundUp(width, HyperStride);
        PaddedHeight = RoundUp(height, HyperStride);
        Columns = (PaddedWidth + tileSize - 1) / tileSize;
        Rows = (PaddedHeight + tileSize - 1) / tileSize;
    }

    public int Width { get; }

    public int Height { get; }

    public int TileSize { get; }

    public int PaddedWidth { get; }

    public int PaddedHeight { get; }

    public int LatentWidth => PaddedWidth / LatentStride;

    public int LatentHeight => PaddedHeight / LatentStride;

    public int HyperWidth => PaddedWidth / HyperStride;

    public int HyperHeight => PaddedHeight / HyperStride;

    public int Columns { get; }

    public int Rows { get; }

    public int Count => Columns * Rows;

    /// <summary>The tile's rectangle in latent units (x, y, width, height).</summary>
    public (int X, int Y, int Width, int Height) LatentRect(int tile)
    {
        var (x, y, w, h) = PixelRect(tile);
        return (x / LatentStride, y / LatentStride, w / LatentStride, h / LatentStride);
    }

    /// <summary>The tile's rectangle in hyper-latent units.</summary>
    public (int X, int Y, int Width, int Height) HyperRect(int tile)
    {
        var (x, y, w, h) = PixelRect(tile);
        return (x / HyperStride, y / HyperStride, w / HyperStride, h / HyperStride);
    }

    /// <summary>The tile's rectangle in padded pixels.</summary>
    public (int X, int Y, int Width, int Height) PixelRect(int tile)
    {
        if ((uint)tile >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(tile));
        }

        int x = tile % Columns * TileSize;
        int y = tile / Columns * TileSize;
        return (x, y, Math.Min(TileSize, PaddedWidth - x), Math.Min(TileSize, PaddedHeight - y));
    }

    private static int RoundUp(int v, int m) => (v + m - 1) / m * m;
}
