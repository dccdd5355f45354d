using System.Globalization;
using System.Text.Json;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Tests.Models;

/// <summary>
/// Finds the real model pack and its integer test vectors: <c>models/*.ecpack</c> and <c>tests/vectors/model/</c> of the
/// repository, or the file/folder in <c>EDGECODEC_MODEL</c> and the folder in <c>EDGECODEC_MODEL_VECTORS</c>.
/// Packs are found by glob and by the hash the vectors name, never by a hard-coded hash: packs get replaced.
/// </summary>
internal static class TestPacks
{
    public const string VectorsEnvironmentVariable = "EDGECODEC_MODEL_VECTORS";

    private static readonly Lazy<string?> s_packPath = new(FindPack);
    private static readonly Lazy<ModelPack?> s_pack = new(() => s_packPath.Value is string p ? ModelPack.Load(p) : null);
    private static readonly Lazy<(ModelVectors? Vectors, string Reason)> s_vectors = new(FindVectors);

    public static string RepositoryRoot => ModelPackLocator.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("EdgeCodec.sln not found above the test binaries.");

    public static string? PackPath => s_packPath.Value;

    public static ModelPack Pack => s_pack.Value ?? throw new InvalidOperationException(MissingPack);

    public static string MissingPack =>
        $"No model pack: models/*.ecpack is empty and {ModelPack.ModelEnvironmentVariable} is not set (export one with python3 -m training.export).";

    public static ModelVectors Vectors => s_vectors.Value.Vectors ?? throw new InvalidOperationException(s_vectors.Value.Reason);

    public static string? VectorsSkipReason => s_vectors.Value.Vectors is null ? s_vectors.Value.Reason : null;

    /// <summary>The pack the vectors belong to (they name it by SHA-256).</summary>
    public static ModelPack VectorsPack => s_vectorsPack.Value;

    private static readonly Lazy<ModelPack> s_vectorsPack = new(() => ModelPack.Load(Vectors.PackPath));

    private static IEnumerable<string> Candidates()
    {
        string? configured = Environment.GetEnvironmentVariable(ModelPack.ModelEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (File.Exists(configured))
            {
                yield return configured;
            }
            else if (Directory.Exists(configured))
            {
                foreach (string f in Directory.GetFiles(configured, "*.ecpack"))
                {
                    yield return f;
                }
            }
        }

        string models = Path.Combine(RepositoryRoot, "models");
        if (Directory.Exists(models))
        {
            foreach (string f in Directory.GetFiles(models, "*.ecpack"))
            {
                yield return f;
            }
        }
    }

    private static string? FindPack()
    {
        try
        {
            return ModelPackLocator.FindDefault();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static (ModelVectors?, string) FindVectors()
    {
        string folder = Environment.GetEnvironmentVariable(VectorsEnvironmentVariable) is { Length: > 0 } v
            ? v
            : Path.Combine(RepositoryRoot, "tests", "vectors", "model");
        string json = Path.Combine(folder, "vectors.json");
        if (!File.Exists(json))
        {
            return (null, $"No model test vectors at {json} (written by python3 -m training.export).");
        }

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(json));
        string sha = doc.RootElement.GetProperty("pack_sha256").GetString()!;
        string? pack = Candidates().FirstOrDefault(p => Path.GetFileName(p).Contains(sha[..12], StringComparison.OrdinalIgnoreCase));
        if (pack is null)
        {
            return (null, $"The model vectors belong to pack {sha[..12]}, which is not in models/ (nor in {ModelPack.ModelEnvironmentVariable}).");
        }

        byte[] blob = File.ReadAllBytes(Path.Combine(folder, "vectors.bin"));
        var arrays = new Dictionary<string, I32Tensor>(StringComparer.Ordinal);
        foreach (JsonProperty a in doc.RootElement.GetProperty("arrays").EnumerateObject())
        {
            int[] shape = a.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            int offset = a.Value.GetProperty("offset").GetInt32();
            int count = shape.Aggregate(1, (p, d) => p * d);
            int[] data = new int[count];
            Buffer.BlockCopy(blob, offset, data, 0, count * 4);
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("The vectors are little-endian.");
            }

            arrays[a.Name] = new I32Tensor(shape[0], shape[1], shape[2], data);
        }

        int quality = doc.RootElement.GetProperty("quality").GetInt32();
        return (new ModelVectors(sha, pack, quality, arrays), "");
    }
}

/// <summary>Integer test vectors of one pack (training/export.py <c>write_vectors</c>): C×H×W int32 arrays.</summary>
internal sealed record ModelVectors(string PackSha256, string PackPath, int Quality, IReadOnlyDictionary<string, I32Tensor> Arrays)
{
    public I32Tensor this[string name] => Arrays[name];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"vectors of {PackSha256[..12]} at quality {Quality}");
}

/// <summary>A fact that is skipped, with the reason, when no model pack is present.</summary>
public sealed class PackFactAttribute : FactAttribute
{
    public PackFactAttribute()
    {
        if (TestPacks.PackPath is null)
        {
            Skip = TestPacks.MissingPack;
        }
    }
}

/// <summary>A theory that is skipped, with the reason, when no model pack is present.</summary>
public sealed class PackTheoryAttribute : TheoryAttribute
{
    public PackTheoryAttribute()
    {
        if (TestPacks.PackPath is null)
        {
            Skip = TestPacks.MissingPack;
        }
    }
}

/// <summary>A fact that is skipped, with the reason, only when the model vectors or the pack they name are absent.</summary>
public sealed class VectorFactAttribute : FactAttribute
{
    public VectorFactAttribute()
    {
        if (TestPacks.VectorsSkipReason is string reason)
        {
            Skip = reason;
        }
    }
}
