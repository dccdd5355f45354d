using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Models;

namespace EdgeCodec.Codec.Residual;

/// <summary>
/// The payload of a tile's residual layer (docs/format.md, "The residual layer"): <c>step index (1 byte) ‖ rANS
/// stream</c>, or with a pack of several block classes <c>step index ‖ varint class stream length ‖ class stream ‖
/// coefficient stream</c>. The class stream holds one class per block; the coefficient stream the tile's blocks in
/// row-major order, each as the values of its class's coded coefficients (of 3 planes × 256), every value coded with
/// the Gaussian table the pack names for (quality level, step, class, plane, coefficient).
/// </summary>
internal static class ResidualLayer
{
    /// <summary>Codes one tile's quantised coefficients, 768 per block, choosing each block's class; the values of coefficients its class does not code are dropped (decoders see zero).</summary>
    public static byte[] Encode(ResidualTables tables, CdfTableSet gaussian, int level, int step, int[] symbols)
    {
        int blocks = symbols.Length / ResidualTransform.Coefficients;
        var classes = new int[blocks];
        if (tables.Classes > 1)
        {
            var classBits = ClassBits(tables, level, step);
            var zeroBits = ZeroBits(gaussian);

            for (int b = 0; b < blocks; b++)
            {
                classes[b] = ChooseClass(tables, gaussian, level, step, classBits, zeroBits, symbols.AsSpan(b * ResidualTransform.Coefficients, ResidualTransform.Coefficients));
            }
        }

        int count = CodedCount(tables, level, step, classes);
        var values = new int[count];
        var indices = new int[count];
        for (int b = 0, i = 0; b < blocks; b++)
        {
            var block = symbols.AsSpan(b * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
            ReadOnlySpan<byte> row = tables.Indices(level, step, classes[b]);
            foreach (int j in tables.Coded(level, step, classes[b]))
            {
                values[i] = block[j];
                indices[i++] = row[j];
            }
        }

        byte[] stream = RansCodec.Encode(values, indices, gaussian);
        if (tables.Classes == 1)
        {
            return [(byte)step, .. stream];
        }

        byte[] classStream = RansCodec.Encode(classes, ClassIndices(tables, level, step, blocks), tables.ClassTables!);
        var payload = new byte[1 + Varint.Length((uint)classStream.Length) + classStream.Length + stream.Length];
        payload[0] = (byte)step;
        int at = 1 + Varint.Write(payload.AsSpan(1), (uint)classStream.Length);
        classStream.CopyTo(payload, at);
        stream.CopyTo(payload, at + classStream.Length);
        return payload;
    }

    /// <summary>
    /// What one step towards zero must save in bits, per squared step of added error, for the encoder to take it
    /// (<see cref="Optimise"/>; λ = 0.12 · step² in squared pixel values; 0.12 did best of 0.06, 0.12 and 0.2 on 12
    /// held-out training crops). On Kodak (session 32, the pack's ladder) it spares 0.1–0.2 % of the rate over
    /// 25–30 dB and 0.6–0.9 % over 30–36 dB against the dead zone alone: the dead zone had taken most of it.
    /// </summary>
    public const double RateDistortionWeight = 0.12;

    /// <summary>
    /// The encoder's rate-distortion optimised quantisation of one tile's coefficients (<paramref name="scaled"/>:
    /// divided by the step, <see cref="ResidualTransform.ForwardTileScaled"/>): the dead-zone quantiser, then, under
    /// each block's cheapest class, every nonzero value moves one step towards zero where its added squared error
    /// (in steps²) is less than <see cref="RateDistortionWeight"/> times the bits it saves. Informative: decoders read
    /// any symbols; <see cref="Encode"/> chooses the classes again for the result.
    /// </summary>
    public static int[] Optimise(ResidualTables tables, CdfTableSet gaussian, int level, int step, double[] scaled)
    {
        int[] symbols = ResidualTransform.Quantise(scaled);
        var classBits = tables.Classes > 1 ? ClassBits(tables, level, step) : [0.0];
        var zeroBits = ZeroBits(gaussian);
        for (int b = 0; b < symbols.Length / ResidualTransform.Coefficients; b++)
        {
            var block = symbols.AsSpan(b * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
            int cls = tables.Classes > 1 ? ChooseClass(tables, gaussian, level, step, classBits, zeroBits, block) : 0;
            ReadOnlySpan<byte> row = tables.Indices(level, step, cls);
            foreach (int j in tables.Coded(level, step, cls))
            {
                int q = block[j];
                if (q == 0)
                {
                    continue;
                }

                int towards = q - Math.Sign(q);
                double c = Math.Abs(scaled[(b * ResidualTransform.Coefficients) + j]);
                double addedError = ((c - Math.Abs(towards)) * (c - Math.Abs(towards))) - ((c - Math.Abs(q)) * (c - Math.Abs(q)));
                double savedBits = Bits(gaussian, row[j], q) - (towards == 0 ? zeroBits[row[j]] : Bits(gaussian, row[j], towards));
                if (addedError < RateDistortionWeight * savedBits)
                {
                    block[j] = towards;
                }
            }
        }

        return symbols;
    }

    /// <summary>Decodes one tile's quantised coefficients (<paramref name="blocks"/> blocks of 768, zero where not coded) and its step index.</summary>
    /// <exception cref="EdgeCodecFormatException">The payload is empty, names a step the pack lacks, a class stream length beyond the payload or a class the pack lacks, or a stream is corrupt.</exception>
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

        var classes = new int[blocks];
        ReadOnlySpan<byte> stream = payload[1..];
        if (tables.Classes > 1)
        {
            FormatError error = Varint.TryRead(stream, out int length, out int used);
            if (error != FormatError.None)
            {
                throw new EdgeCodecFormatException("Residual layer: the class stream's length is corrupt.", error, 1);
            }

            if (length > stream.Length - used)
            {
                throw new EdgeCodecFormatException($"Residual layer: a class stream of {length} bytes in a payload of {payload.Length}.", FormatError.Truncated, 1);
            }

            RansCodec.Decode(stream.Slice(used, length), ClassIndices(tables, level, step, blocks), tables.ClassTables!, classes);
            foreach (int c in classes)
            {
                if ((uint)c >= (uint)tables.Classes)
                {
                    throw new EdgeCodecFormatException($"Residual layer: block class {c}, the model pack has {tables.Classes}.", FormatError.Malformed, 1 + used);
                }
            }

            stream = stream[(used + length)..];
        }

        int count = CodedCount(tables, level, step, classes);
        var indices = new int[count];
        for (int b = 0, i = 0; b < blocks; b++)
        {
            ReadOnlySpan<byte> row = tables.Indices(level, step, classes[b]);
            foreach (int j in tables.Coded(level, step, classes[b]))
            {
                indices[i++] = row[j];
            }
        }

        var values = new int[count];
        RansCodec.Decode(stream, indices, gaussian, values);
        var symbols = new int[blocks * ResidualTransform.Coefficients];
        for (int b = 0, i = 0; b < blocks; b++)
        {
            var block = symbols.AsSpan(b * ResidualTransform.Coefficients, ResidualTransform.Coefficients);
            foreach (int j in tables.Coded(level, step, classes[b]))
            {
                block[j] = values[i++];
            }
        }

        return (step, symbols);
    }

    /// <summary>The number of blocks of a tile of <paramref name="rect"/> padded pixels.</summary>
    public static int Blocks((int X, int Y, int Width, int Height) rect) => rect.Width / ResidualTransform.Block * (rect.Height / ResidualTransform.Block);

    /// <summary>
    /// The encoder's class for one block (informative: any class decodes): the one that drops the fewest nonzero values
    /// (those at coefficients it does not code), then codes the block in the fewest bits with its class symbol, then
    /// the lowest. <c>training/residual.py</c> (<c>choose_classes</c>) fits the tables with the same rule.
    /// </summary>
    private static int ChooseClass(ResidualTables tables, CdfTableSet gaussian, int level, int step, double[] classBits, double[] zeroBits, ReadOnlySpan<int> block)
    {
        int best = 0;
        int bestDropped = int.MaxValue;
        double bestBits = double.MaxValue;
        for (int k = 0; k < tables.Classes; k++)
        {
            ReadOnlySpan<byte> row = tables.Indices(level, step, k);
            int dropped = 0;
            double bits = classBits[k];
            for (int j = 0; j < block.Length; j++)
            {
                if (row[j] == ResidualTables.NotCoded)
                {
                    dropped += block[j] != 0 ? 1 : 0;
                }
                else
                {
                    bits += block[j] == 0 ? zeroBits[row[j]] : Bits(gaussian, row[j], block[j]);
                }
            }

            if (dropped < bestDropped || (dropped == bestDropped && bits < bestBits))
            {
                (best, bestDropped, bestBits) = (k, dropped, bits);
            }
        }

        return best;
    }

    /// <summary>The cost in bits of <paramref name="value"/> in one table: its frequency's, an escape's approximately.</summary>
    private static double Bits(CdfTableSet set, int table, int value)
    {
        ReadOnlySpan<int> cdf = set.GetCdf(table);
        long s = (long)value - set.Offset(table);
        int n = cdf.Length - 2;
        if (s >= 0 && s < n)
        {
            return CdfTableSet.PrecisionBits - Math.Log2(cdf[(int)s + 1] - cdf[(int)s]);
        }

        // The escape symbol, then a 3-bit length and the zigzagged difference's 4-bit chunks (docs/entropy.md).
        int bitLength = 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Abs(s)) + 1;
        return CdfTableSet.PrecisionBits - Math.Log2(cdf[n + 1] - cdf[n]) + 3 + (4 * Math.Max(1, (bitLength + 3) / 4));
    }

    /// <summary>Most values are zero: their cost in each table, once per tile.</summary>
    private static double[] ZeroBits(CdfTableSet gaussian)
    {
        var bits = new double[gaussian.TableCount];
        for (int t = 0; t < bits.Length; t++)
        {
            bits[t] = Bits(gaussian, t, 0);
        }

        return bits;
    }

    private static double[] ClassBits(ResidualTables tables, int level, int step)
    {
        var bits = new double[tables.Classes];
        for (int k = 0; k < bits.Length; k++)
        {
            bits[k] = Bits(tables.ClassTables!, tables.ClassTable(level, step), k);
        }

        return bits;
    }

    private static int CodedCount(ResidualTables tables, int level, int step, int[] classes)
    {
        int count = 0;
        foreach (int c in classes)
        {
            count += tables.Coded(level, step, c).Length;
        }

        return count;
    }

    private static int[] ClassIndices(ResidualTables tables, int level, int step, int blocks)
    {
        var indices = new int[blocks];
        Array.Fill(indices, tables.ClassTable(level, step));
        return indices;
    }
}
