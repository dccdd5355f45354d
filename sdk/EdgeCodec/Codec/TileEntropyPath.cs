using EdgeCodec.Entropy;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Codec;

/// <summary>
/// The entropy-critical path of one tile: z → hyper decoder → per group (mean, scale index) → symbols.
/// Integer only (docs/model-pack.md); the encoder and the decoder run exactly this code, so they
/// derive the same tables on every machine.
/// </summary>
internal sealed class TileEntropyPath
{
    private readonly ModelPack _pack;
    private readonly IntegerGraph _hyper;
    private readonly IntegerGraph[] _contexts;

    public TileEntropyPath(ModelPack pack)
    {
        _pack = pack;
        _hyper = pack.GetGraph("hyper");
        _contexts = [.. Enumerable.Range(0, pack.Layout.Groups).Select(k => pack.GetGraph($"context{k}"))];
    }

    public ModelLayout Layout => _pack.Layout;

    /// <summary>Table index of every z value (its channel), channel-major.</summary>
    public static int[] HyperTableIndices(int channels, int plane)
    {
        var indices = new int[channels * plane];
        for (int c = 0; c < channels; c++)
        {
            indices.AsSpan(c * plane, plane).Fill(c);
        }

        return indices;
    }

    /// <summary>
    /// Runs the path. <paramref name="symbolsFor"/> is called once per group in order with the group's
    /// predicted mean and scale indices and returns the group's symbols, or null when the group is not
    /// available (it then decodes as its mean). Returns the tile's latents y (M × h × w, fixed point).
    /// </summary>
    public I32Tensor Run(I32Tensor z, Func<int, I32Tensor, I32Tensor, int[]?> symbolsFor, EntropyTimer? timer = null)
    {
        var layout = _pack.Layout;
        long start = timer?.Start() ?? 0;
        var hyper = _hyper.Run(new Dictionary<string, Tensor> { ["z"] = z }, 0)["hyper"];
        var inputs = new Dictionary<string, Tensor> { ["hyper"] = hyper };
        int h = hyper.Height, w = hyper.Width, plane = h * w;
        int gc = layout.GroupChannels, one = 1 << layout.MeanFractionBits;
        var y = new I32Tensor(layout.LatentChannels, h, w);
        for (int k = 0; k < layout.Groups; k++)
        {
            var outputs = _contexts[k].Run(inputs, 0);
            var mean = (I32Tensor)outputs[$"mean{k}"];
            var index = (I32Tensor)outputs[$"index{k}"];
            timer?.StopHyper(ref start);
            int[]? symbols = symbolsFor(k, mean, index);
            start = timer?.Start() ?? 0;
            var yk = y.Data.AsSpan(k * gc * plane, gc * plane);
            if (symbols is null)
            {
                mean.Data.CopyTo(yk);
            }
            else
            {
                for (int i = 0; i < yk.Length; i++)
                {
                    yk[i] = checked((symbols[i] * one) + mean.Data[i]);
                }
            }

            inputs[$"y{k}"] = new I32Tensor(gc, h, w, yk.ToArray());
        }

        timer?.StopHyper(ref start);
        return y;
    }
}
