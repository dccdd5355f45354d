using EdgeCodec.Codec.Residual;
using EdgeCodec.Format;

namespace EdgeCodec.Models;

/// <summary>
/// A pack's residual-layer tables (docs/model-pack.md, <c>residual</c>): the quantisation steps a stream may choose
/// and, per quality level, step, plane and coefficient, the Gaussian scale level that codes the coefficient.
/// </summary>
internal sealed class ResidualTables
{
    /// <summary>The most steps a pack may offer (the step index is one byte of each payload).</summary>
    public const int MaxSteps = 64;

    /// <summary>The largest step, in quarter pixels, so that a clamped symbol times the step stays inside 32 bits.</summary>
    public const int MaxStepQ2 = 4096;

    private readonly byte[] _indices;

    public ResidualTables(int[] stepsQ2, byte[] indices, int levels, int scaleLevels)
    {
        if (stepsQ2.Length is < 1 or > MaxSteps)
        {
            throw new EdgeCodecFormatException($"manifest.json: residual.steps_q2 has {stepsQ2.Length} steps, expected 1..{MaxSteps}.", FormatError.Malformed);
        }

        foreach (int s in stepsQ2)
        {
            if (s is < 1 or > MaxStepQ2)
            {
                throw new EdgeCodecFormatException($"manifest.json: residual step {s} is outside 1..{MaxStepQ2} quarter pixels.", FormatError.Malformed);
            }
        }

        long expected = (long)levels * stepsQ2.Length * ResidualTransform.Coefficients;
        if (indices.Length != expected)
        {
            throw new EdgeCodecFormatException($"residual/tables.bin: {indices.Length} bytes, expected {expected} ({levels} levels x {stepsQ2.Length} steps x {ResidualTransform.Coefficients}).", FormatError.Malformed);
        }

        int bad = indices.AsSpan().IndexOfAnyInRange((byte)scaleLevels, byte.MaxValue);
        if (bad >= 0)
        {
            throw new EdgeCodecFormatException($"residual/tables.bin: byte {bad} names scale level {indices[bad]}, the pack has {scaleLevels}.", FormatError.Malformed);
        }

        StepsQ2 = stepsQ2;
        _indices = indices;
    }

    /// <summary>The steps in quarter pixels (pixel values 0..255), by step index.</summary>
    public IReadOnlyList<int> StepsQ2 { get; }

    /// <summary>The 768 scale levels of one quality level and step, in the order of a block's symbols.</summary>
    public ReadOnlySpan<byte> Indices(int level, int step)
        => _indices.AsSpan(((level * StepsQ2.Count) + step) * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
}
