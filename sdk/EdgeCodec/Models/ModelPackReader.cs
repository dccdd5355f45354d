using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Inference;

namespace EdgeCodec.Models;

/// <summary>
/// Parses and validates a model pack (docs/model-pack.md) held fully in memory. Order matters: identity (the hash the
/// file name states) first, then the per-entry hashes, and only then are entry contents interpreted, so a tampered
/// entry is reported as a hash mismatch rather than as whatever parse error its damage happens to cause.
/// </summary>
/// <remarks>
/// A version-1 pack's identity is the SHA-256 of the whole file; a version-2 pack's is the SHA-256 of its
/// <c>manifest.json</c>, which lists every entry's hash, so a copy without the encoder's graphs (a decoder-only pack,
/// <see cref="ModelPack.WriteDecoderPack"/>) keeps the identity, and with it the model id its streams name.
/// </remarks>
internal static class ModelPackReader
{
    public const string Format = "edgecodec-model-pack";

    /// <summary>The oldest format version this SDK reads: identity = SHA-256 of the file, every entry present.</summary>
    public const int FileIdentityVersion = 1;

    /// <summary>The newest format version this SDK reads: identity = SHA-256 of <c>manifest.json</c>; ONNX entries may be omitted.</summary>
    public const int FormatVersion = 2;

    public const string Architecture = "mean-scale-hyperprior-cc4-v1";
    private const int MaxEntries = 64;

    /// <summary>The largest rate a ladder setting may state: three 8-bit planes, twice over (no setting of a codec costs more).</summary>
    private const double MaxLadderBitsPerPixel = 48;

    /// <summary>Entries every pack lists besides <c>manifest.json</c>.</summary>
    internal static readonly string[] RequiredEntries =
    [
        "weights.bin", "cdf/factorized.json", "cdf/gaussian.json", "MODEL_CARD.md",
        ModelPack.AnalysisEntry, ModelPack.HyperAnalysisEntry, ModelPack.SynthesisQdqEntry, ModelPack.SynthesisFp32Entry,
    ];

    /// <summary>
    /// The entries a version-2 pack may list in <c>manifest.files</c> and yet leave out of the archive: the ONNX graphs.
    /// The integer engine's weights, the CDFs, the residual tables and the card are always present.
    /// </summary>
    internal static readonly string[] OmissibleEntries =
    [
        ModelPack.AnalysisEntry, ModelPack.AnalysisInt8Entry, ModelPack.HyperAnalysisEntry, ModelPack.SynthesisQdqEntry, ModelPack.SynthesisFp32Entry,
    ];

    public static ModelPack Read(byte[] bytes, string? fileName)
    {
        string label = fileName is null ? "model pack" : $"model pack '{Path.GetFileName(fileName)}'";
        if (bytes.Length > ModelPack.MaxPackBytes)
        {
            throw new EdgeCodecFormatException($"{label}: {bytes.Length} bytes exceeds the {ModelPack.MaxPackBytes}-byte limit.", FormatError.LimitExceeded);
        }

        byte[] fileHash = SHA256.HashData(bytes);
        string? nameHash = fileName is not null && TryGetNameHash(Path.GetFileName(fileName), out string? h) ? h : null;
        Dictionary<string, byte[]> entries;
        JsonDocument manifestDoc;
        int version;
        try
        {
            entries = ReadZip(bytes, label);
            (manifestDoc, version) = OpenManifest(entries, label);
        }
        catch (EdgeCodecFormatException) when (nameHash is not null && !Matches(fileHash, nameHash))
        {
            // A damaged file that names its hash: the damage is the mismatch (the identity of either version is out of reach).
            throw NameMismatch(label, nameHash, fileHash, "the SHA-256 of the file");
        }

        using var _ = manifestDoc;
        byte[] identity = version == FileIdentityVersion ? fileHash : SHA256.HashData(entries["manifest.json"]);
        if (nameHash is not null && !Matches(identity, nameHash))
        {
            throw NameMismatch(label, nameHash, identity, version == FileIdentityVersion ? "the SHA-256 of the file" : "the SHA-256 of its manifest.json");
        }

        return Interpret(manifestDoc, entries, label, version, identity);
    }

    /// <summary>
    /// A pack given as its entries (no ZIP, no file name), for the <c>manifest</c> fuzz target: everything after the
    /// archive is read, with the manifest's hash as the identity whatever its version says.
    /// </summary>
    internal static ModelPack ReadEntries(Dictionary<string, byte[]> entries)
    {
        (JsonDocument manifestDoc, int version) = OpenManifest(entries, "model pack");
        using var _ = manifestDoc;
        return Interpret(manifestDoc, entries, "model pack", version, SHA256.HashData(entries["manifest.json"]));
    }

    /// <summary>Parses <c>manifest.json</c> and checks its format, version and architecture.</summary>
    private static (JsonDocument Manifest, int Version) OpenManifest(Dictionary<string, byte[]> entries, string label)
    {
        if (!entries.TryGetValue("manifest.json", out byte[]? manifestBytes))
        {
            throw new EdgeCodecFormatException($"{label}: the archive has no manifest.json.", FormatError.Malformed);
        }

        JsonDocument doc = PackJson.Parse("manifest.json", manifestBytes);
        try
        {
            return (doc, CheckIdentity(new PackJson("manifest.json", doc.RootElement, "")));
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    /// <summary>Everything after the identity: entry hashes, then the entries' contents.</summary>
    private static ModelPack Interpret(JsonDocument manifestDoc, Dictionary<string, byte[]> entries, string label, int version, byte[] identity)
    {
        var manifest = new PackJson("manifest.json", manifestDoc.RootElement, "");
        string[] omitted = CheckEntryHashes(manifest, entries, label, version);

        ModelLayout layout = ReadLayout(manifest);
        QualityLevel[] levels = ReadQualityLevels(manifest["quality_levels"], layout.LatentChannels);
        Dictionary<string, PackTensor> tensors = ReadTensors(manifest["tensors"], entries["weights.bin"]);
        Dictionary<string, IntegerGraph> graphs = new GraphParser(tensors, layout, levels.Length).ParseAll(manifest["graphs"]);
        CdfTableSet gaussian = ReadCdfs("cdf/gaussian.json", entries["cdf/gaussian.json"], layout.ScaleLevels, "scale_table.levels");
        CdfTableSet factorized = ReadCdfs("cdf/factorized.json", entries["cdf/factorized.json"], layout.HyperChannels, "layout.hyper_channels");
        double kmac = manifest["decoder_kmac_per_pixel"]["total"].Double();
        string card = Encoding.UTF8.GetString(entries["MODEL_CARD.md"]);
        var onnx = entries.Where(e => e.Key.StartsWith("onnx/", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        (ResidualTables? residual, QualitySetting[]? ladder, double[] ladderBpp) = manifest.Has("residual")
            ? ReadResidual(manifest["residual"], entries, levels.Length, layout.ScaleLevels)
            : (null, null, []);
        return new ModelPack(Convert.ToHexStringLower(identity), BinaryPrimitives.ReadUInt64BigEndian(identity), layout, levels, gaussian, factorized, graphs, onnx, card, kmac,
            manifest.Has("name") ? manifest["name"].String() : "")
        {
            Residual = residual,
            QualityLadder = ladder ?? [.. levels.Select(l => new QualitySetting(l.Level, null))], // the levels alone
            QualityLadderBitsPerPixel = ladderBpp,
            FormatVersion = version,
            OmittedEntries = omitted,
        };
    }

    private static bool Matches(byte[] hash, string nameHash) => Convert.ToHexStringLower(hash).StartsWith(nameHash, StringComparison.OrdinalIgnoreCase);

    private static EdgeCodecFormatException NameMismatch(string label, string nameHash, byte[] identity, string what) => new(
        $"{label}: the file name says content hash {nameHash} but {what} is {Convert.ToHexStringLower(identity)[..12]}… (renamed, truncated or modified file).",
        FormatError.CrcMismatch);

    /// <summary>The optional <c>residual</c> section: block 16, constant bits 13, the steps, the tables entry, the block classes and their weights' entry (1 and none when absent), the ladder (null when absent) and its measured rates (empty when absent).</summary>
    private static (ResidualTables Tables, QualitySetting[]? Ladder, double[] LadderBpp) ReadResidual(PackJson r, Dictionary<string, byte[]> entries, int levels, int scaleLevels)
    {
        int block = r["block"].Int();
        int bits = r["constant_bits"].Int();
        if (block != Codec.Residual.ResidualTransform.Block || bits != Codec.Residual.ResidualTransform.ConstantBits)
        {
            throw r.Error($"block {block} / constant_bits {bits}: this decoder implements block 16 with 13-bit constants");
        }

        string entry = r["tables"].String();
        if (!entries.TryGetValue(entry, out byte[]? bytes) || !entry.StartsWith("residual/", StringComparison.Ordinal))
        {
            throw r.Error($"tables entry '{entry}' is missing (it must be a residual/ entry of the pack)");
        }

        int classes = r.Has("classes") ? r["classes"].Int() : 1;
        byte[] weights = [];
        if (classes > 1)
        {
            string weightsEntry = r["class_weights"].String();
            if (!entries.TryGetValue(weightsEntry, out weights!) || !weightsEntry.StartsWith("residual/", StringComparison.Ordinal))
            {
                throw r.Error($"class_weights entry '{weightsEntry}' is missing (it must be a residual/ entry of the pack)");
            }
        }

        var tables = new ResidualTables(r["steps_q2"].IntArray(), bytes, levels, scaleLevels, classes, weights);
        if (!r.Has("ladder"))
        {
            return r.Has("ladder_bpp") ? throw r.Error("ladder_bpp without a ladder") : (tables, null, []);
        }

        PackJson ladderJson = r["ladder"];
        if (ladderJson.Count is 0 or > 256)
        {
            throw ladderJson.Error($"expected 1..256 settings, got {ladderJson.Count}");
        }

        var ladder = new QualitySetting[ladderJson.Count];
        for (int i = 0; i < ladder.Length; i++)
        {
            PackJson item = ladderJson[i];
            if (item.Count != 2)
            {
                throw item.Error("expected [level, step] (step -1: no residual layer)");
            }

            int step = item[1].Int(-1, tables.StepsQ2.Count - 1);
            ladder[i] = new QualitySetting(item[0].Int(0, levels - 1), step < 0 ? null : step);
        }

        return (tables, ladder, r.Has("ladder_bpp") ? ReadLadderRates(r["ladder_bpp"], ladder.Length) : []);
    }

    /// <summary>
    /// The optional <c>ladder_bpp</c>: one measured rate per ladder setting, in bits per pixel, each in
    /// (0, <see cref="MaxLadderBitsPerPixel"/>] and none below the one before (the ladder is in order of size).
    /// </summary>
    private static double[] ReadLadderRates(PackJson json, int settings)
    {
        if (json.Count != settings)
        {
            throw json.Error($"expected one rate per ladder setting ({settings}), got {json.Count}");
        }

        var rates = new double[settings];
        for (int i = 0; i < settings; i++)
        {
            double bpp = json[i].Double();
            if (!(bpp > 0 && bpp <= MaxLadderBitsPerPixel) || (i > 0 && bpp < rates[i - 1]))
            {
                throw json[i].Error($"rate {bpp} must be in (0, {MaxLadderBitsPerPixel}] bits per pixel and not below the setting before");
            }

            rates[i] = bpp;
        }

        return rates;
    }

    /// <summary>Extracts the 12 hex digits of <c>…-&lt;12 hex&gt;.ecpack</c>; names of another form carry no hash.</summary>
    internal static bool TryGetNameHash(string fileName, out string nameHash)
    {
        nameHash = "";
        const string Suffix = ".ecpack";
        if (!fileName.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase) || fileName.Length < Suffix.Length + 13)
        {
            return false;
        }

        int start = fileName.Length - Suffix.Length - 12;
        string digits = fileName.Substring(start, 12);
        if (fileName[start - 1] != '-' || !digits.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        nameHash = digits;
        return true;
    }

    private static Dictionary<string, byte[]> ReadZip(byte[] bytes, string label)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            if (zip.Entries.Count > MaxEntries)
            {
                throw new EdgeCodecFormatException($"{label}: {zip.Entries.Count} archive entries exceeds the limit of {MaxEntries}.", FormatError.LimitExceeded);
            }

            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                if (entry.Length > ModelPack.MaxPackBytes)
                {
                    throw new EdgeCodecFormatException($"{label}: entry '{entry.FullName}' declares {entry.Length} bytes.", FormatError.LimitExceeded);
                }

                if (entries.ContainsKey(entry.FullName))
                {
                    throw new EdgeCodecFormatException($"{label}: entry '{entry.FullName}' appears twice.", FormatError.Malformed);
                }

                byte[] data = new byte[entry.Length];
                try
                {
                    using Stream s = entry.Open();
                    s.ReadExactly(data);
                    if (s.ReadByte() >= 0)
                    {
                        throw new EdgeCodecFormatException($"{label}: entry '{entry.FullName}' is longer than its declared size.", FormatError.Malformed);
                    }
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
                {
                    throw new EdgeCodecFormatException($"{label}: entry '{entry.FullName}' is damaged ({ex.Message}).", FormatError.Malformed, null, ex);
                }

                entries.Add(entry.FullName, data);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new EdgeCodecFormatException($"{label}: not a valid ZIP archive ({ex.Message}); the file is truncated or not a model pack.", FormatError.Malformed, null, ex);
        }

        return entries;
    }

    /// <summary>Checks format, version and architecture; returns the format version.</summary>
    private static int CheckIdentity(PackJson m)
    {
        string format = m["format"].String();
        if (format != Format)
        {
            throw new EdgeCodecFormatException($"manifest.json: format is '{format}', expected '{Format}'.", FormatError.UnsupportedVersion);
        }

        long version = m["format_version"].Long();
        if (version is < FileIdentityVersion or > FormatVersion)
        {
            throw new EdgeCodecFormatException(
                $"manifest.json: format_version {version} is not supported (this SDK reads versions {FileIdentityVersion}..{FormatVersion}).", FormatError.UnsupportedVersion);
        }

        string architecture = m["architecture"].String();
        if (architecture != Architecture)
        {
            throw new EdgeCodecFormatException($"manifest.json: architecture '{architecture}' is not supported (expected '{Architecture}').", FormatError.UnsupportedVersion);
        }

        return (int)version;
    }

    /// <summary>
    /// Checks every present entry against <c>manifest.files</c> and that the manifest lists every required entry;
    /// returns the listed entries the archive leaves out, which only a version-2 pack may do and only for
    /// <see cref="OmissibleEntries"/>.
    /// </summary>
    private static string[] CheckEntryHashes(PackJson m, Dictionary<string, byte[]> entries, string label, int version)
    {
        PackJson files = m["files"];
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var omitted = new List<string>();
        foreach ((string name, PackJson value) in files.Properties())
        {
            listed.Add(name);
            if (!entries.TryGetValue(name, out byte[]? data))
            {
                if (version > FileIdentityVersion && OmissibleEntries.Contains(name, StringComparer.Ordinal))
                {
                    omitted.Add(name);
                    continue;
                }

                throw new EdgeCodecFormatException(
                    $"{label}: entry '{name}' listed in manifest.files is missing from the archive" +
                    (version > FileIdentityVersion ? " (a pack may leave out only its ONNX graphs)." : "."),
                    FormatError.Truncated);
            }

            string expected = value.String();
            string actual = Convert.ToHexStringLower(SHA256.HashData(data));
            if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            {
                throw new EdgeCodecFormatException(
                    $"{label}: entry '{name}' has SHA-256 {actual[..12]}… but manifest.files says {expected[..Math.Min(12, expected.Length)]}… (tampered or damaged entry).",
                    FormatError.CrcMismatch);
            }
        }

        foreach (string required in RequiredEntries)
        {
            if (!listed.Contains(required))
            {
                throw new EdgeCodecFormatException($"{label}: required entry '{required}' is not listed in manifest.files.", FormatError.Malformed);
            }
        }

        foreach (string name in entries.Keys)
        {
            if (name != "manifest.json" && !listed.Contains(name))
            {
                throw new EdgeCodecFormatException($"{label}: entry '{name}' is not listed in manifest.files.", FormatError.Malformed);
            }
        }

        omitted.Sort(StringComparer.Ordinal);
        return [.. omitted];
    }

    private static ModelLayout ReadLayout(PackJson m)
    {
        PackJson l = m["layout"];
        int latent = l["latent_channels"].Int(1, 4096);
        int hyper = l["hyper_channels"].Int(1, 1024);
        int groups = l["groups"].Int(1, 64);
        int groupChannels = l["group_channels"].Int(1, 4096);
        int latentStride = l["latent_stride"].Int(1, 1024);
        int hyperStride = l["hyper_stride"].Int(1, 4096);
        int tile = l["tile_size"].Int(1, 1 << 16);
        int halo = l["synthesis_halo"].Int(0, 64);
        int fraction = l["mean_fraction_bits"].Int(1, 16);
        int levels = m["scale_table"]["levels"].Int(1, CdfTableSet.MaxTableCount);
        if (groups * groupChannels != latent)
        {
            throw l.Error($"latent_channels {latent} != groups {groups} x group_channels {groupChannels}");
        }

        if (!int.IsPow2(latentStride) || !int.IsPow2(hyperStride) || hyperStride <= latentStride)
        {
            throw l.Error($"strides {latentStride}/{hyperStride} must be powers of two with hyper_stride > latent_stride");
        }

        if (tile % hyperStride != 0)
        {
            throw l.Error($"tile_size {tile} is not a multiple of hyper_stride {hyperStride}");
        }

        return new ModelLayout(latent, hyper, groups, groupChannels, latentStride, hyperStride, tile, halo, fraction, levels);
    }

    private static QualityLevel[] ReadQualityLevels(PackJson j, int channels)
    {
        if (j.Count is 0 or > 64)
        {
            throw j.Error($"expected 1..64 quality levels, got {j.Count}");
        }

        var levels = new QualityLevel[j.Count];
        for (int i = 0; i < levels.Length; i++)
        {
            PackJson q = j[i];
            int level = q["level"].Int();
            if (level != i)
            {
                throw q.Error($"level {level} at position {i}; levels must be 0, 1, 2, … in order");
            }

            PackJson gainJson = q["gain"];
            if (gainJson.Count != channels)
            {
                throw gainJson.Error($"{gainJson.Count} gains, expected one per latent channel ({channels})");
            }

            float[] gain = gainJson.Items().Select(g => (float)g.Double()).ToArray();
            if (gain.Any(g => !(g > 0) || !float.IsFinite(g)))
            {
                throw gainJson.Error("gains must be finite and positive");
            }

            levels[i] = new QualityLevel(level, q["lambda"].Double(), gain);
        }

        return levels;
    }

    private static Dictionary<string, PackTensor> ReadTensors(PackJson directory, byte[] weights)
    {
        var result = new Dictionary<string, PackTensor>(StringComparer.Ordinal);
        foreach (PackJson t in directory.Items())
        {
            string name = t["name"].String();
            string dtype = t["dtype"].String();
            int size = dtype switch
            {
                "i8" or "u8" => 1,
                "i32" => 4,
                _ => throw t["dtype"].Error($"tensor '{name}': unknown dtype '{dtype}'"),
            };
            int[] shape = t["shape"].IntArray();
            long count = 1;
            foreach (int d in shape)
            {
                if (d < 0 || (count *= d) > ModelPack.MaxPackBytes)
                {
                    throw t["shape"].Error($"tensor '{name}': bad shape [{string.Join(", ", shape)}]");
                }
            }

            long offset = t["offset"].Long(), length = t["length"].Long();
            if (length != count * size)
            {
                throw t.Error($"tensor '{name}': length {length} does not match {dtype} shape [{string.Join(", ", shape)}] ({count * size} bytes)");
            }

            if (offset < 0 || offset % 16 != 0 || offset + length > weights.Length)
            {
                throw t.Error($"tensor '{name}': bytes {offset}..{offset + length} are not a 16-byte aligned range of weights.bin ({weights.Length} bytes)");
            }

            ReadOnlySpan<byte> raw = weights.AsSpan((int)offset, (int)length);
            Array data = dtype switch
            {
                "i8" => raw.ToArray().Select(b => (sbyte)b).ToArray(),
                "u8" => raw.ToArray(),
                _ => DecodeInt32(raw),
            };
            if (!result.TryAdd(name, new PackTensor(name, dtype, shape, data)))
            {
                throw t.Error($"tensor '{name}' appears twice");
            }
        }

        return result;
    }

    private static int[] DecodeInt32(ReadOnlySpan<byte> raw)
    {
        var values = new int[raw.Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(4 * i));
        }

        return values;
    }

    private static CdfTableSet ReadCdfs(string entry, byte[] bytes, int expectedTables, string expectedBy)
    {
        using JsonDocument doc = PackJson.Parse(entry, bytes);
        var root = new PackJson(entry, doc.RootElement, "");
        int precision = root["precision"].Int();
        if (precision != CdfTableSet.PrecisionBits)
        {
            throw root["precision"].Error($"precision {precision}, expected {CdfTableSet.PrecisionBits}");
        }

        PackJson cdfJson = root["cdfs"];
        if (cdfJson.Count != expectedTables)
        {
            throw cdfJson.Error($"{cdfJson.Count} tables, but {expectedBy} is {expectedTables}");
        }

        int[][] cdfs = cdfJson.Items().Select(c => c.IntArray()).ToArray();
        int[] offsets = root["offsets"].IntArray();
        try
        {
            return CdfTableSet.Create(cdfs, offsets);
        }
        catch (EdgeCodecFormatException ex)
        {
            throw new EdgeCodecFormatException($"{entry}: {ex.Message}", FormatError.InvalidTable, null, ex);
        }
    }
}
