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
    /// <summary>Codes one tile's quantised coefficients.</summary>
    public static byte[] Encode(ResidualTables tables, CdfTableSet gaussian, int level, int step, int[] symbols)
    {
        int[] indices = Indices(tables, level, step, symbols.Length);
        byte[] stream = RansCodec.Encode(symbols, indices, gaussian);
        var payload = new byte[stream.Length + 1];
        payload[0] = (byte)step;
        stream.CopyTo(payload, 1);
        return payload;
    }

    /// <summary>Decodes one tile's quantised coefficients (<paramref name="blocks"/> blocks) and its step index.</summary>
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

        var symbols = new int[blocks * ResidualTransform.Coefficients];
        RansCodec.Decode(payload[1..], Indices(tables, level, step, symbols.Length), gaussian, symbols);
        return (step, symbols);
    }

    /// <summary>The number of blocks of a tile of <paramref name="rect"/> padded pixels.</summary>
    public static int Blocks((int X, int Y, int Width, int Height) rect) => rect.Width / ResidualTransform.Block * (rect.Height / ResidualTransform.Block);

    private static int[] Indices(ResidualTables tables, int level, int step, int count)
    {
        ReadOnlySpan<byte> row = tables.Indices(level, step);
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = row[i % ResidualTransform.Coefficients];
        }

        return indices;
    }
}
