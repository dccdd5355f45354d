using EdgeCodec.Backends;
using EdgeCodec.Models;
using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Codec;

/// <summary>
/// The encoder's float analysis transforms (<c>g_a</c>, <c>h_a</c>) through ONNX Runtime. Their output
/// is quantised right after, and everything from there on is integer, so a different analysis
/// implementation changes the bits chosen, never whether a decoder can parse them.
/// </summary>
internal sealed class OnnxAnalysis : IDisposable
{
    private readonly InferenceSession _analysis;
    private readonly InferenceSession _hyperAnalysis;
    private readonly int _latentChannels;
    private readonly int _hyperChannels;

    public OnnxAnalysis(ModelPack pack, int threads)
    {
        if (!OnnxRuntimeProbe.IsAvailable(out var reason))
        {
            throw new NotSupportedException("The encoder needs ONNX Runtime: " + reason);
        }

        _latentChannels = pack.Layout.LatentChannels;
        _hyperChannels = pack.Layout.HyperChannels;
        using var options = OnnxSessionFactory.CpuOptions(threads);
        _analysis = new InferenceSession(pack.GetEntry(ModelPack.AnalysisEntry).ToArray(), options);
        _hyperAnalysis = new InferenceSession(pack.GetEntry(ModelPack.HyperAnalysisEntry).ToArray(), options);
    }

    /// <summary>g_a on a padded image (planar float 0..1, 3 × h × w; h, w multiples of 64) → y (M × h/16 × w/16).</summary>
    public float[] Analyze(float[] planarImage, int height, int width)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(planarImage, [1, 3, height, width]);
        var y = new float[_latentChannels * (height / 16) * (width / 16)];
        using var output = OrtValue.CreateTensorValueFromMemory(y, [1, _latentChannels, height / 16, width / 16]);
        using var run = new RunOptions();
        _analysis.Run(run, ["image"], [input], ["y"], [output]);
        return y;
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
