using System.Buffers.Binary;
using System.Text.Json;
using EdgeCodec.Entropy;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Codec;

/// <summary>
/// Checks this machine's integer engine against the test vectors the Python reference wrote at export
/// (<c>training/export.py</c>, <c>tests/vectors/model/</c>): z → means, scale indices, latents, and
/// latents → RGB must be identical integers.
/// </summary>
public static class ConformanceCheck
{
    /// <summary>Runs the check.</summary>
    /// <param name="pack">The pack the vectors were written for.</param>
    /// <param name="vectorsDirectory">Folder holding <c>vectors.json</c> and <c>vectors.bin</c>.</param>
    /// <returns>The list of mismatches (empty when identical).</returns>
    /// <exception cref="EdgeCodecFormatException">The vectors are malformed or belong to another pack.</exception>
    /// <exception cref="FileNotFoundException">A vector file is missing.</exception>
    public static IReadOnlyList<string> Run(ModelPack pack, string vectorsDirectory)
    {
        ArgumentNullException.ThrowIfNull(pack);
        var vectors = Load(vectorsDirectory, out string packSha, out int quality);
        if (!string.Equals(packSha, pack.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new EdgeCodecFormatException($"The vectors were written for pack {packSha[..12]}, not {pack.Sha256[..12]}.");
        }

        var mismatches = new List<string>();
        var (zShape, zData) = vectors["z"];
        var z = new I32Tensor(zShape[0], zShape[1], zShape[2], zData);
        var y = new TileEntropyPath(pack).Run(z, (k, mean, index) =>
        {
            Compare($"mean{k}", mean.Data, vectors[$"mean{k}"].Data, mismatches);
            Compare($"index{k}", index.Data, vectors[$"index{k}"].Data, mismatches);
            int[] symbols = vectors[$"symbols{k}"].Data;
            var decoded = new int[symbols.Length];
            RansCodec.Decode(RansCodec.Encode(symbols, index.Data, pack.GaussianTables), index.Data, pack.GaussianTables, decoded);
            Compare($"rans{k}", decoded, symbols, mismatches);
            return symbols;
        });
        Compare("y", y.Data, vectors["y"].Data, mismatches);
        var rgb = (U8Tensor)pack.GetGraph("synthesis").Run(new Dictionary<string, Tensor> { ["y"] = y }, quality)["rgb"];
        Compare("rgb", [.. rgb.Data.Select(b => (int)b)], vectors["rgb"].Data, mismatches);
        return mismatches;
    }

    private static void Compare(string name, int[] actual, int[] expected, List<string> mismatches)
    {
        if (actual.Length != expected.Length)
        {
            mismatches.Add($"{name}: {actual.Length} values, expected {expected.Length}");
            return;
        }

        int first = -1, count = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] != expected[i])
            {
                count++;
                if (first < 0)
                {
                    first = i;
                }
            }
        }

        if (count > 0)
        {
            mismatches.Add($"{name}: {count} of {actual.Length} values differ (first at {first}: {actual[first]} vs {expected[first]})");
        }
    }

    private static Dictionary<string, (int[] Shape, int[] Data)> Load(string directory, out string packSha, out int quality)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "vectors.json")));
        byte[] blob = File.ReadAllBytes(Path.Combine(directory, "vectors.bin"));
        var root = doc.RootElement;
        packSha = root.GetProperty("pack_sha256").GetString() ?? string.Empty;
        quality = root.GetProperty("quality").GetInt32();
        var result = new Dictionary<string, (int[], int[])>(StringComparer.Ordinal);
        foreach (var array in root.GetProperty("arrays").EnumerateObject())
        {
            int[] shape = [.. array.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
            long count = shape.Aggregate(1L, (a, b) => a * b);
            long offset = array.Value.GetProperty("offset").GetInt64();
            if (shape.Length != 3 || count <= 0 || offset < 0 || offset + (count * 4) > blob.Length)
            {
                throw new EdgeCodecFormatException($"Vector '{array.Name}' has a bad shape or lies outside vectors.bin.");
            }

            var data = new int[count];
            for (int i = 0; i < count; i++)
            {
                data[i] = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan((int)offset + (4 * i)));
            }

            result[array.Name] = (shape, data);
        }

        return result;
    }
}
