using System.Buffers;
using EdgeCodec.Backends;
using EdgeCodec.Imaging;
using EdgeCodec.Inference;

namespace EdgeCodec.Codec;

/// <summary>
/// Synthesises one tile: cuts the tile's latents plus a halo (clipped at the image border) out of the
/// quantised latents, runs the backend on that window, and copies the tile's pixels (cropped to the image)
/// into the output. With a halo covering the synthesis receptive field, tiles meet without seams.
/// </summary>
internal static class TileSynthesis
{
    /// <param name="backend">The synthesis backend.</param>
    /// <param name="yq">Quantised latents of the whole (padded) image.</param>
    /// <param name="grid">Geometry.</param>
    /// <param name="rect">The region in latent units (a tile, or the whole latent for one window).</param>
    /// <param name="halo">Latent positions read beyond the region on each side.</param>
    /// <param name="output">The image receiving the region's pixels.</param>
    public static void Run(ISynthesisBackend backend, U8Tensor yq, TileGrid grid, (int X, int Y, int Width, int Height) rect, int halo, RgbImage output)
    {
        var (lx, ly, lw, lh) = rect;
        int x0 = Math.Max(0, lx - halo), y0 = Math.Max(0, ly - halo);
        int x1 = Math.Min(grid.LatentWidth, lx + lw + halo), y1 = Math.Min(grid.LatentHeight, ly + lh + halo);
        int ww = x1 - x0, wh = y1 - y0;
        // Pooled: a window's RGB is a few hundred KB, which would otherwise be a large-object-heap allocation per tile.
        int windowBytes = yq.Channels * ww * wh, rgbBytes = ww * 16 * wh * 16 * 3;
        byte[] windowArray = ArrayPool<byte>.Shared.Rent(windowBytes);
        byte[] rgbArray = ArrayPool<byte>.Shared.Rent(rgbBytes);
        try
        {
            Span<byte> window = windowArray.AsSpan(0, windowBytes);
            for (int c = 0; c < yq.Channels; c++)
            {
                for (int r = 0; r < wh; r++)
                {
                    yq.Data.AsSpan((c * yq.PlaneSize) + ((y0 + r) * yq.Width) + x0, ww).CopyTo(window.Slice((c * ww * wh) + (r * ww), ww));
                }
            }

            Span<byte> rgb = rgbArray.AsSpan(0, rgbBytes);
            backend.Synthesize(window, wh, ww, rgb);
            int stride = ww * 16 * 3;
            int ox = lx * 16;
            int cols = Math.Min(lw * 16, grid.Width - ox);
            for (int r = 0; r < lh * 16 && cols > 0; r++)
            {
                int oy = (ly * 16) + r;
                if (oy >= grid.Height)
                {
                    break;
                }

                rgb.Slice(((((ly - y0) * 16) + r) * stride) + ((lx - x0) * 16 * 3), cols * 3).CopyTo(output.Row(oy).Slice(ox * 3, cols * 3));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(windowArray);
            ArrayPool<byte>.Shared.Return(rgbArray);
        }
    }

    /// <summary>Sum of squared differences between two images over a tile's pixel region (cropped to the image).</summary>
    public static long SquaredError(RgbImage a, RgbImage b, TileGrid grid, int tile)
    {
        var (x, y, w, h) = grid.PixelRect(tile);
        int cols = Math.Min(w, grid.Width - x), rows = Math.Min(h, grid.Height - y);
        long sum = 0;
        for (int r = 0; r < rows; r++)
        {
            var ra = a.Row(y + r).Slice(x * 3, cols * 3);
            var rb = b.Row(y + r).Slice(x * 3, cols * 3);
            for (int i = 0; i < ra.Length; i++)
            {
                int d = ra[i] - rb[i];
                sum += d * d;
            }
        }

        return sum;
    }
}
