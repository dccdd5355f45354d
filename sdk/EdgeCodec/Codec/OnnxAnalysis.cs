using EdgeCodec.Backends;
using EdgeCodec.Format;
using EdgeCodec.Inference;
using EdgeCodec.Models;
using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Codec;

/// <summary>
/// The encoder's analysis transforms (<c>g_a</c> in fp32 or int8, <c>h_a</c> in fp32) through ONNX Runtime. Their output
/// is quantised right after, and everything from there on is integer, so a different analysis
/// implementation changes the bits chosen, never whether a decoder can parse them.
/// </summary>
internal sealed class OnnxAnalysis : IDisposable
{
    private readonly InferenceSession _analysis;
    private readonly InferenceSession _hyperAnalysis;
    private readonly int _latentChannels;
    private readonly int _hyperChannels;

    public OnnxAnalysis(ModelPack pack, int threads, AnalysisArithmetic arithmetic = AnalysisArithmetic.Float32)
    {
        if (!OnnxRuntimeProbe.IsAvailable(out var reason))
        {
            throw new NotSupportedException("The encoder needs ONNX Runtime: " + reason);
        }

        string entry = arithmetic switch
        {
            AnalysisArithmetic.Float32 => ModelPack.AnalysisEntry,
            AnalysisArithmetic.Int8 => ModelPack.AnalysisInt8Entry,
            _ => throw new ArgumentOutOfRangeException(nameof(arithmetic), arithmetic, "Unknown analysis arithmetic."),
        };
        foreach (string needed in new[] { entry, ModelPack.HyperAnalysisEntry })
        {
            if (pack.OmittedEntries.Contains(needed))
            {
                throw new NotSupportedException(
                    $"Model pack {pack.Sha256[..12]} is a decoder-only copy: it leaves out '{needed}', which the encoder needs. " +
                    "Encode with the complete pack (the same identity, so its streams decode with this copy).");
            }
        }

        if (!pack.HasEntry(entry))
        {
            throw new NotSupportedException(
                $"Model pack {pack.Sha256[..12]} has no int8 analysis ('{entry}'; packs exported since session 41 have it): " +
                "encode with AnalysisArithmetic.Float32, or use a newer pack.");
        }

        _latentChannels = pack.Layout.LatentChannels;
        _hyperChannels = pack.Layout.HyperChannels;
        using var options = OnnxSessionFactory.CpuOptions(threads);
        _analysis = LoadGraph(pack, entry, options);
        try
        {
            _hyperAnalysis = LoadGraph(pack, ModelPack.HyperAnalysisEntry, options);
        }
        catch
        {
            _analysis.Dispose();
            throw;
        }
    }

    /// <summary>A pack entry as an ONNX Runtime session; a graph it cannot load is a malformed pack, named as such.</summary>
    private static InferenceSession LoadGraph(ModelPack pack, string entry, SessionOptions options)
    {
        try
        {
            return new InferenceSession(pack.GetEntry(entry).ToArray(), options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new EdgeCodecFormatException(
                $"Model pack {pack.Sha256[..12]}: entry '{entry}' is not a graph ONNX Runtime can load ({ex.Message}).", FormatError.Malformed, innerException: ex);
        }
    }

    /// <summary>
    /// Pixels read beyond an analysis region on each side: more than g_a's receptive-field radius (four 5×5 convs at
    /// strides 1, 2, 4, 8: 2·(1+2+4+8) = 30 px; residual blocks of two 3×3 convs at strides 4 and 8 in packs from step
    /// 37,183 on: 2·4 + 2·8 = 24 px; one at stride 16 on the latent from step 52,565 on: 2·16 = 32 px; 86 px in all;
    /// a block at stride 2, +4 px, was trained from step 60,000 to 64,000 and removed, and no pack shipped with it),
    /// so a region's latents are those of the whole image up to float rounding. A multiple of 16, so that windows keep
    /// the latent grid. (It was 64 until session 12: since the stride-16 block, latents next to a region border differed
    /// by up to 1e-4.)
    /// </summary>
    public const int AnalysisHalo = 96;

    /// <summary>
    /// g_a on a padded image (planar float 0..1, 3 × h × w; h, w multiples of 64) → y (M × h/16 × w/16), computed in
    /// regions of at most <paramref name="region"/> pixels per side (plus <see cref="AnalysisHalo"/>) so that ONNX
    /// Runtime's activations stay bounded however large the image; <paramref name="region"/> ≤ 0 = one pass.
    /// </summary>
    /// <remarks>With a <paramref name="pool"/> the region windows and their outputs are rented there and handed back.</remarks>
    public float[] Analyze(float[] planarImage, int height, int width, int region = 0, TensorPool? pool = null)
    {
        var y = new float[_latentChannels * (height / 16) * (width / 16)];
        region = region <= 0 ? int.MaxValue : Math.Max(64, region / 64 * 64);
        if (height <= region && width <= region)
        {
            RunAnalysis(planarImage, height, width, y);
            return y;
        }

        int lh = height / 16, lw = width / 16;
        for (int ry = 0; ry < height; ry += region)
        {
            for (int rx = 0; rx < width; rx += region)
            {
                int rh = Math.Min(region, height - ry), rw = Math.Min(region, width - rx);
                int wy0 = Math.Max(0, ry - AnalysisHalo), wx0 = Math.Max(0, rx - AnalysisHalo);
                int wy1 = Math.Min(height, ry + rh + AnalysisHalo), wx1 = Math.Min(width, rx + rw + AnalysisHalo);
                int wh = wy1 - wy0, ww = wx1 - wx0;
                float[] window = TensorPool.Floats(pool, 3 * wh * ww); // every element copied below
                for (int c = 0; c < 3; c++)
                {
                    for (int r = 0; r < wh; r++)
                    {
                        Array.Copy(planarImage, (c * height * width) + ((wy0 + r) * width) + wx0, window, (c * wh * ww) + (r * ww), ww);
                    }
                }

                int partLength = _latentChannels * (wh / 16) * (ww / 16);
                float[] part = TensorPool.Floats(pool, partLength); // ONNX Runtime writes all of it
                RunAnalysis(window, wh, ww, part);
                pool?.Return(window);
                int oy = (ry - wy0) / 16, ox = (rx - wx0) / 16, pw = ww / 16, ph = wh / 16;
                for (int c = 0; c < _latentChannels; c++)
                {
                    for (int r = 0; r < rh / 16; r++)
                    {
                        Array.Copy(part, (c * ph * pw) + ((oy + r) * pw) + ox, y, (c * lh * lw) + (((ry / 16) + r) * lw) + (rx / 16), rw / 16);
                    }
                }

                pool?.Return(part);
            }
        }

        return y;
    }

    private void RunAnalysis(float[] planarImage, int height, int width, float[] y)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(planarImage, [1, 3, height, width]);
        using var output = OrtValue.CreateTensorValueFromMemory(y, [1, _latentChannels, height / 16, width / 16]);
        using var run = new RunOptions();
        _analysis.Run(run, ["image"], [input], ["y"], [output]);
    }

    /// <summary>h_a on the gained latent y' (M × h16 × w16) → z (Z × h16/4 × w16/4), not yet rounded.</summary>
    public float[] HyperAnalyze(float[] gainedLatent, int height16, int width16)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(gainedLatent, [1, _latentChannels, height16, width16]);
        var z = new float[_hyperChannels * (height16 / 4) * (width16 / 4)];
        using var output = OrtValue.CreateTensorValueFromMemory(z, [1, _hyperChannels, height16 / 4, width16 / 4]);
        using var run = new RunOptions();
        _hyperAnalysis.Run(run, ["y"], [input], ["z"], [output]);
        return z;
    }

    public void Dispose()
    {
        _analysis.Dispose();
        _hyperAnalysis.Dispose();
    }
}
