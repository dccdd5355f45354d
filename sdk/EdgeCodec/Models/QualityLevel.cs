namespace EdgeCodec.Models;

/// <summary>One quality level of a model: its training trade-off and the encoder's per-channel latent gain.</summary>
public sealed class QualityLevel
{
    private readonly float[] _gain;

    internal QualityLevel(int level, double lambda, float[] gain)
    {
        Level = level;
        Lambda = lambda;
        _gain = gain;
    }

    /// <summary>Index of the level, 0-based; also the row of per-quality tables in the integer graphs.</summary>
    public int Level { get; }

    /// <summary>Rate-distortion weight the level was trained for (MSE on [0,1] scaled by 255²); informational.</summary>
    public double Lambda { get; }

    /// <summary>Per-latent-channel gain (M values): the encoder codes <c>y' = g_a(x) · gain</c>.</summary>
    public ReadOnlyMemory<float> Gain => _gain;
}
