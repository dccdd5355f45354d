using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Inference;

/// <summary>
/// Runs the integer synthesis graph <c>g_s</c> on a fixed-point latent <c>y</c> at a quality level and returns the image.
/// </summary>
/// <remarks>
/// <para>
/// Tiled mode: each output tile is computed from its latent window widened by <see cref="ModelLayout.SynthesisHalo"/>
/// positions on every side (clipped at the image border) and then cropped. Inside a window every layer pads with the
/// zero point exactly where the whole-image run pads (at the real image border), and the halo is wider than the
/// graph's receptive field, so the crop is bit-identical to the whole-image result; the tests prove it.
/// </para>
/// <para>Thread-safe; results never depend on <c>maxDegreeOfParallelism</c>.</para>
/// </remarks>
internal sealed class IntegerSynthesis
{
    public IntegerSynthesis(ModelPack pack)
    {
        ArgumentNullException.ThrowIfNull(pack);
        Pack = pack;
    }

    public ModelPack Pack { get; }

    private int Stride => Pack.Layout.LatentStride;

    /// <summary>Synthesises the whole latent at once.</summary>
    /// <param name="y">Fixed-point latent, <c>LatentChannels × h × w</c>.</param>
    /// <param name="quality">Quality level the latent was coded at (selects the input gain row).</param>
    /// <param name="maxDegreeOfParallelism">Threads for the convolutions.</param>
    /// <returns>A <c>16w × 16h</c> image.</returns>
    /// <exception cref="ArgumentException"><paramref name="y"/> has the wrong channel count.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is not a level of the pack.</exception>
    public RgbImage Run(I32Tensor y, int quality, int maxDegreeOfParallelism = 1)
    {
        U8Tensor rgb = RunPlanar(y, quality, maxDegreeOfParallelism);
        var image = new RgbImage(rgb.Width, rgb.Height);
        CopyInterleaved(rgb, 0, 0, rgb.Height, rgb.Width, image, 0, 0);
        return image;
    }

    /// <summary>The graph's planar output <c>rgb</c> (u8, 3 × 16h × 16w).</summary>
    internal U8Tensor RunPlanar(I32Tensor y, int quality, int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(y);
        return (U8Tensor)Pack.SynthesisGraph.Run(new Dictionary<string, Tensor> { ["y"] = y }, quality, maxDegreeOfParallelism)["rgb"];
    }

    /// <summary>Copies the window <c>[sy, sy+h) × [sx, sx+w)</c> of a planar RGB tensor into an image at <c>(dy, dx)</c>.</summary>
    internal static void CopyInterleaved(U8Tensor rgb, int sy, int sx, int h, int w, RgbImage image, int dy, int dx)
    {
        int plane = rgb.PlaneSize;
        byte[] src = rgb.Data;
        for (int row = 0; row < h; row++)
        {
            Span<byte> dst = image.Row(dy + row).Slice(dx * 3, w * 3);
            int s = (sy + row) * rgb.Width + sx;
            for (int x = 0; x < w; x++)
            {
                dst[3 * x] = src[s + x];
                dst[3 * x + 1] = src[plane + s + x];
                dst[3 * x + 2] = src[2 * plane + s + x];
            }
        }
    }
}
