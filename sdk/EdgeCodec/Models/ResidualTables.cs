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

    /// <summary>A table entry saying the coefficient is not coded: it is zero in every block.</summary>
    public const byte NotCoded = 255;

    private readonly byte[] _indices;
    private readonly int[][] _coded;

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

        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] != NotCoded && indices[i] >= scaleLevels)
            {
                throw new EdgeCodecFormatException($"residual/tables.bin: byte {i} names scale level {indices[i]}, the pack has {scaleLevels} (255 = not coded).", FormatError.Malformed);
            }
        }

        StepsQ2 = stepsQ2;
        _indices = indices;
        _coded = new int[levels * stepsQ2.Length][];
        for (int i = 0; i < _coded.Length; i++)
        {
            var row = indices.AsSpan(i * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
            var coded = new List<int>(ResidualTransform.Coefficients);
            for (int j = 0; j < row.Length; j++)
            {
                if (row[j] != NotCoded)
                {
                    coded.Add(j);
                }
            }

            _coded[i] = [.. coded];
        }
    }

    /// <summary>The steps in quarter pixels (pixel values 0..255), by step index.</summary>
    public IReadOnlyList<int> StepsQ2 { get; }

    /// <summary>The 768 table entries of one quality level and step, by coefficient (<see cref="NotCoded"/> or a scale level).</summary>
    public ReadOnlySpan<byte> Indices(int level, int step)
        => _indices.AsSpan(((level * StepsQ2.Count) + step) * ResidualTransform.Coefficients, ResidualTransform.Coefficients);

    /// <summary>The coefficients a block codes at one quality level and step, in coding order (ascending).</summary>
    public ReadOnlySpan<int> Coded(int level, int step) => _coded[(level * StepsQ2.Count) + step];
}
