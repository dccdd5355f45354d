using EdgeCodec.Codec.Residual;
using EdgeCodec.Entropy;
using EdgeCodec.Format;

namespace EdgeCodec.Models;

/// <summary>
/// A pack's residual-layer tables (docs/model-pack.md, <c>residual</c>): the quantisation steps a stream may choose;
/// per quality level and step, the block classes' frequencies; and per quality level, step, class, plane and
/// coefficient, the Gaussian scale level that codes the coefficient (or <see cref="NotCoded"/>).
/// </summary>
internal sealed class ResidualTables
{
    /// <summary>The most steps a pack may offer (the step index is one byte of each payload).</summary>
    public const int MaxSteps = 64;

    /// <summary>The most block classes a pack may define per level and step.</summary>
    public const int MaxClasses = 16;

    /// <summary>The largest step, in quarter pixels, so that a clamped symbol times the step stays inside 32 bits.</summary>
    public const int MaxStepQ2 = 4096;

    /// <summary>A table entry saying the coefficient is not coded: it is zero in every block of the class.</summary>
    public const byte NotCoded = 255;

    private readonly byte[] _indices;
    private readonly int[][] _coded;

    /// <summary>Tables of one class per level and step (a pack without <c>classes</c>).</summary>
    public ResidualTables(int[] stepsQ2, byte[] indices, int levels, int scaleLevels)
        : this(stepsQ2, indices, levels, scaleLevels, 1, [])
    {
    }

    /// <summary>Tables of <paramref name="classes"/> block classes per level and step, with the classes' 16-bit weights (little-endian, per level, step, class; empty for one class).</summary>
    /// <exception cref="EdgeCodecFormatException">A count, size or entry is out of range.</exception>
    public ResidualTables(int[] stepsQ2, byte[] indices, int levels, int scaleLevels, int classes, byte[] classWeights)
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

        if (classes is < 1 or > MaxClasses)
        {
            throw new EdgeCodecFormatException($"manifest.json: residual.classes is {classes}, expected 1..{MaxClasses}.", FormatError.Malformed);
        }

        int settings = levels * stepsQ2.Length;
        long expected = (long)settings * classes * ResidualTransform.Coefficients;
        if (indices.Length != expected)
        {
            throw new EdgeCodecFormatException($"residual/tables.bin: {indices.Length} bytes, expected {expected} ({levels} levels x {stepsQ2.Length} steps x {classes} classes x {ResidualTransform.Coefficients}).", FormatError.Malformed);
        }

        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] != NotCoded && indices[i] >= scaleLevels)
            {
                throw new EdgeCodecFormatException($"residual/tables.bin: byte {i} names scale level {indices[i]}, the pack has {scaleLevels} (255 = not coded).", FormatError.Malformed);
            }
        }

        if (classes > 1)
        {
            if (classWeights.Length != settings * classes * 2)
            {
                throw new EdgeCodecFormatException($"residual class weights: {classWeights.Length} bytes, expected {settings * classes * 2} ({settings} settings x {classes} classes x 2).", FormatError.Malformed);
            }

            if (settings > CdfTableSet.MaxTableCount)
            {
                throw new EdgeCodecFormatException($"manifest.json: {levels} levels x {stepsQ2.Length} steps need more than {CdfTableSet.MaxTableCount} class tables.", FormatError.Malformed);
            }

            var cdfs = new int[settings][];
            var weights = new long[classes + 1]; // + the escape symbol, weight 0
            for (int t = 0; t < settings; t++)
            {
                for (int k = 0; k < classes; k++)
                {
                    weights[k] = classWeights[(((t * classes) + k) * 2)] | (classWeights[(((t * classes) + k) * 2) + 1] << 8);
                }

                cdfs[t] = CdfTableSet.QuantizePmf(weights);
            }

            ClassTables = CdfTableSet.Create(cdfs, new int[settings]);
        }
        else if (classWeights.Length != 0)
        {
            throw new EdgeCodecFormatException("residual class weights given for a single class.", FormatError.Malformed);
        }

        StepsQ2 = stepsQ2;
        Classes = classes;
        _indices = indices;
        _coded = new int[settings * classes][];
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

    /// <summary>The block classes per level and step; 1 means a payload has no class stream.</summary>
    public int Classes { get; }

    /// <summary>The class symbols' tables, one per (level, step) (<see cref="ClassTable"/>); null with one class.</summary>
    public CdfTableSet? ClassTables { get; }

    /// <summary>The table of <see cref="ClassTables"/> that codes the class symbols of one level and step.</summary>
    public int ClassTable(int level, int step) => (level * StepsQ2.Count) + step;

    /// <summary>The 768 table entries of one quality level, step and class, by coefficient (<see cref="NotCoded"/> or a scale level).</summary>
    public ReadOnlySpan<byte> Indices(int level, int step, int cls = 0)
        => _indices.AsSpan(Row(level, step, cls) * ResidualTransform.Coefficients, ResidualTransform.Coefficients);

    /// <summary>The coefficients a block of one class codes at one quality level and step, in coding order (ascending).</summary>
    public ReadOnlySpan<int> Coded(int level, int step, int cls = 0) => _coded[Row(level, step, cls)];

    private int Row(int level, int step, int cls) => (((level * StepsQ2.Count) + step) * Classes) + cls;
}
