using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Models;

namespace EdgeCodec.Codec.Residual;

/// <summary>
/// The payload of a tile's residual layer (docs/format.md, "The residual layer"): <c>step index (1 byte) ‖ rANS
/// stream</c>. The stream holds the tile's blocks in row-major order, each as 3 planes × 256 coefficients, every value
/// coded with the Gaussian table the pack names for (quality level, step, plane, coefficient).
/// </summary>
internal static class ResidualLayer
{
    /// <summary>Codes one tile's quantised coefficients, 768 per block; the values of coefficients the tables do not code are dropped (decoders see zero).</summary>
    public static byte[] Encode(ResidualTables tables, CdfTableSet gaussian, int level, int step, int[] symbols)
    {
        ReadOnlySpan<int> coded = tables.Coded(level, step);
        int blocks = symbols.Length / ResidualTransform.Coefficients;
        var values = new int[blocks * coded.Length];
        for (int b = 0, i = 0; b < blocks; b++)
        {
            var block = symbols.AsSpan(b * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
            foreach (int j in coded)
            {
                values[i++] = block[j];
            }
        }

        byte[] stream = RansCodec.Encode(values, Indices(tables, level, step, blocks), gaussian);
        var payload = new byte[stream.Length + 1];
        payload[0] = (byte)step;
        stream.CopyTo(payload, 1);
        return payload;
    }

    /// <summary>Decodes one tile's quantised coefficients (<paramref name="blocks"/> blocks of 768, zero where not coded) and its step index.</summary>
    /// <exception cref="EdgeCodecFormatException">The payload is empty, names a step the pack lacks, or its stream is corrupt.</exception>
    public static (int Step, int[] Symbols) Decode(ReadOnlySpan<byte> payload, ResidualTables tables, CdfTableSet gaussian, int level, int blocks)
    {
        if (payload.IsEmpty)
        {
            throw new EdgeCodecFormatException("Residual layer: empty payload.", FormatError.Truncated, 0);
        }

        int step = payload[0];
        if (step >= tables.StepsQ2.Count)
        {
            throw new EdgeCodecFormatException($"Residual layer: step index {step}, the model pack has {tables.StepsQ2.Count} steps.", FormatError.Malformed, 0);
        }

        ReadOnlySpan<int> coded = tables.Coded(level, step);
        var values = new int[blocks * coded.Length];
        RansCodec.Decode(payload[1..], Indices(tables, level, step, blocks), gaussian, values);
        var symbols = new int[blocks * ResidualTransform.Coefficients];
        for (int b = 0, i = 0; b < blocks; b++)
        {
            var block = symbols.AsSpan(b * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
            foreach (int j in coded)
            {
                block[j] = values[i++];
            }
        }

        return (step, symbols);
    }

    /// <summary>The number of blocks of a tile of <paramref name="rect"/> padded pixels.</summary>
    public static int Blocks((int X, int Y, int Width, int Height) rect) => rect.Width / ResidualTransform.Block * (rect.Height / ResidualTransform.Block);

    /// <summary>The scale level of every coded value of a tile of <paramref name="blocks"/> blocks, in coding order.</summary>
    private static int[] Indices(ResidualTables tables, int level, int step, int blocks)
    {
        ReadOnlySpan<byte> row = tables.Indices(level, step);
        ReadOnlySpan<int> coded = tables.Coded(level, step);
        var indices = new int[blocks * coded.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = row[coded[i % coded.Length]];
        }

        return indices;
    }
}
