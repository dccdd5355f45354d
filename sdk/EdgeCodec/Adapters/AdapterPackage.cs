using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeCodec.Format;

namespace EdgeCodec.Adapters;

/// <summary>
/// A domain adapter package (<c>.ecadapter</c>): a ZIP of <c>manifest.json</c>, <c>weights.bin</c> (per layer,
/// little-endian int32 bias, mult, shift per channel), optionally <c>onnx/synthesis.qdq.patch</c> (the adapter for ONNX
/// Runtime / QNN backends: an in-place patch of the base pack's QDQ synthesis graph, see <see cref="OnnxPatch"/>) and, once signed, <c>signature.json</c> (ECDSA P-256 over
/// the SHA-256 of the content). Read from untrusted bytes: bounded, validated, typed errors.
/// </summary>
public sealed partial class AdapterPackage
{
    /// <summary>Largest package accepted (4 MiB; a real adapter is a few KB).</summary>
    public const int MaxPackageBytes = 4 << 20;

    private const string ManifestEntry = "manifest.json";
    private const string WeightsEntry = "weights.bin";
    private const string SignatureEntry = "signature.json";
    private const string OnnxEntry = "onnx/synthesis.qdq.patch";
    private const string SignatureAlgorithm = "ECDSA-P256-SHA256";
    private static readonly DateTimeOffset s_fixedTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private AdapterPackage(AdapterManifest manifest, IReadOnlyList<AdapterLayer> layers, byte[] manifestBytes, byte[] weightBytes, byte[]? onnx, AdapterSignature? signature)
    {
        Manifest = manifest;
        Layers = layers;
        _manifestBytes = manifestBytes;
        _weightBytes = weightBytes;
        _onnx = onnx;
        _signature = signature;
        ContentSha256 = Convert.ToHexStringLower(ContentDigest(manifestBytes, weightBytes, onnx));
    }

    private readonly byte[] _manifestBytes;
    private readonly byte[] _weightBytes;
    private readonly byte[]? _onnx;
    private readonly AdapterSignature? _signature;

    /// <summary>The manifest.</summary>
    public AdapterManifest Manifest { get; }

    /// <summary>The retuned layers, in manifest order.</summary>
    public IReadOnlyList<AdapterLayer> Layers { get; }

    /// <summary>SHA-256 (hex) of the signed content (manifest and weights).</summary>
    public string ContentSha256 { get; }

    /// <summary>True when the package carries an ONNX patch (ONNX Runtime and QNN backends can then run the adapted synthesis).</summary>
    public bool HasOnnxSynthesis => _onnx is not null;

    /// <summary>The patch of the base QDQ synthesis graph, or null (covered by the signature like every content entry).</summary>
    internal byte[]? OnnxPatchBytes => _onnx;

    /// <summary>The signing key id, or null for an unsigned package.</summary>
    public string? KeyId => _signature?.KeyId;

    /// <summary>Builds an unsigned package.</summary>
    /// <param name="manifest">The manifest; its layer list is written from <paramref name="layers"/>.</param>
    /// <param name="layers">The retuned layers.</param>
    /// <exception cref="ArgumentException">The manifest or a layer is invalid.</exception>
    public static AdapterPackage Create(AdapterManifest manifest, IReadOnlyList<AdapterLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(layers);
        var withLayers = new AdapterManifest
        {
            Id = manifest.Id,
            ExpertId = manifest.ExpertId,
            Domain = manifest.Domain,
            Version = manifest.Version,
            BaseModelSha256 = manifest.BaseModelSha256,
            ParameterCount = layers.Sum(l => 2 * l.Channels),
            MeasuredBdRatePercent = manifest.MeasuredBdRatePercent,
            LayerOutputs = [.. layers.Select(l => l.Output)],
            LayerChannels = [.. layers.Select(l => l.Channels)],
        };
        try
        {
            Validate(withLayers, layers);
        }
        catch (EdgeCodecFormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(manifest), ex);
        }

        byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(withLayers, AdapterJsonContext.Default.AdapterManifest);
        return new AdapterPackage(withLayers, layers, manifestBytes, WriteWeights(layers), null, null);
    }

    /// <summary>Builds an unsigned package from a manifest (JSON, snake_case fields) and a <c>weights.bin</c>, as the training export writes them.</summary>
    /// <param name="manifestJson">The manifest, including <c>layer_outputs</c> and <c>layer_channels</c>.</param>
    /// <param name="weights">Per layer, little-endian int32 bias, mult and shift per channel.</param>
    /// <param name="onnxSynthesis">Optional: the ONNX patch of the base QDQ synthesis graph (<c>python3 -m training.adapters</c> writes <c>synthesis.qdq.patch</c>).</param>
    /// <exception cref="EdgeCodecFormatException">The parts are malformed or inconsistent.</exception>
    public static AdapterPackage FromParts(byte[] manifestJson, byte[] weights, byte[]? onnxSynthesis = null)
    {
        ArgumentNullException.ThrowIfNull(manifestJson);
        ArgumentNullException.ThrowIfNull(weights);
        AdapterManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(manifestJson, AdapterJsonContext.Default.AdapterManifest)
                ?? throw new EdgeCodecFormatException("The adapter manifest is empty.");
        }
        catch (JsonException ex)
        {
            throw new EdgeCodecFormatException($"The adapter manifest is not valid JSON: {ex.Message}", FormatError.Malformed, null, ex);
        }

        var layers = ReadWeights(manifest, weights);
        Validate(manifest, layers);
        var created = Create(manifest, layers);
        if (onnxSynthesis is { Length: 0 or > MaxPackageBytes })
        {
            throw new EdgeCodecFormatException($"Adapter '{manifest.Id}': the ONNX patch has {onnxSynthesis.Length} bytes.", FormatError.LimitExceeded);
        }

        return onnxSynthesis is null ? created
            : new AdapterPackage(created.Manifest, created.Layers, created._manifestBytes, created._weightBytes, onnxSynthesis, null);
    }

    /// <summary>Returns a copy signed with <paramref name="privateKey"/>.</summary>
    /// <param name="privateKey">The publisher's P-256 private key.</param>
    public AdapterPackage Sign(ECDsa privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        byte[] digest = Convert.FromHexString(ContentSha256);
        byte[] signature = privateKey.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var sig = new AdapterSignature(SignatureAlgorithm, AdapterKeys.KeyId(privateKey), ContentSha256, Convert.ToBase64String(signature));
        return new AdapterPackage(Manifest, Layers, _manifestBytes, _weightBytes, _onnx, sig);
    }

    /// <summary>Checks the signature against the trusted keys.</summary>
    /// <param name="trust">Trusted publisher keys.</param>
    /// <exception cref="AdapterVerificationException">Unsigned, unknown key, or the signature does not match the content.</exception>
    public void VerifySignature(AdapterTrustStore trust)
    {
        ArgumentNullException.ThrowIfNull(trust);
        var sig = _signature ?? throw new AdapterVerificationException($"Adapter '{Manifest.Id}' is not signed.");
        if (sig.Algorithm != SignatureAlgorithm)
        {
            throw new AdapterVerificationException($"Adapter '{Manifest.Id}': unsupported signature algorithm '{sig.Algorithm}'.");
        }

        if (!trust.TryGet(sig.KeyId, out var key))
        {
            throw new AdapterVerificationException($"Adapter '{Manifest.Id}' is signed by key {sig.KeyId}, which this device does not trust.");
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(sig.Signature);
        }
        catch (FormatException)
        {
            throw new AdapterVerificationException($"Adapter '{Manifest.Id}': the signature is not base64.");
        }

        if (!string.Equals(sig.ContentSha256, ContentSha256, StringComparison.Ordinal)
            || !key.VerifyHash(Convert.FromHexString(ContentSha256), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new AdapterVerificationException($"Adapter '{Manifest.Id}': the signature does not match the content (tampered package or wrong key).");
        }
    }

    /// <summary>The package file.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, ManifestEntry, _manifestBytes);
            Add(zip, WeightsEntry, _weightBytes);
            if (_onnx is not null)
            {
                Add(zip, OnnxEntry, _onnx);
            }

            if (_signature is not null)
            {
                Add(zip, SignatureEntry, JsonSerializer.SerializeToUtf8Bytes(_signature, AdapterJsonContext.Default.AdapterSignature));
            }
        }

        return ms.ToArray();
    }

    /// <summary>Parses a package from untrusted bytes (the signature is checked separately by <see cref="VerifySignature"/>).</summary>
    /// <param name="data">The package file.</param>
    /// <exception cref="EdgeCodecFormatException">Too large, not a ZIP, missing or malformed entries, inconsistent sizes.</exception>
    public static AdapterPackage Read(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxPackageBytes)
        {
            throw new EdgeCodecFormatException($"Adapter package of {data.Length} bytes exceeds {MaxPackageBytes}.", FormatError.LimitExceeded);
        }

        try
        {
            using var zip = new ZipArchive(new MemoryStream(data.ToArray(), writable: false), ZipArchiveMode.Read);
            byte[] manifestBytes = Entry(zip, ManifestEntry) ?? throw new EdgeCodecFormatException("Adapter package has no manifest.json.");
            byte[] weights = Entry(zip, WeightsEntry) ?? throw new EdgeCodecFormatException("Adapter package has no weights.bin.");
            byte[]? sigBytes = Entry(zip, SignatureEntry);
            byte[]? onnx = Entry(zip, OnnxEntry);
            var manifest = JsonSerializer.Deserialize(manifestBytes, AdapterJsonContext.Default.AdapterManifest)
                ?? throw new EdgeCodecFormatException("Adapter manifest is empty.");
            var layers = ReadWeights(manifest, weights);
            Validate(manifest, layers);
            var signature = sigBytes is null ? null : JsonSerializer.Deserialize(sigBytes, AdapterJsonContext.Default.AdapterSignature);
            return new AdapterPackage(manifest, layers, manifestBytes, weights, onnx, signature);
        }
        catch (Exception ex) when (ex is InvalidDataException or JsonException or IOException or NotSupportedException)
        {
            throw new EdgeCodecFormatException($"Adapter package is damaged: {ex.Message}", FormatError.Malformed, null, ex);
        }
    }

    private static byte[] ContentDigest(byte[] manifest, byte[] weights, byte[]? onnx)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("edgecodec-adapter-v1\n"u8);
        Span<byte> length = stackalloc byte[8];
        var entries = new List<(string, byte[])> { (ManifestEntry, manifest), (WeightsEntry, weights) };
        if (onnx is not null)
        {
            entries.Add((OnnxEntry, onnx));
        }

        foreach (var (name, bytes) in entries)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
            BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset();
    }

    private static void Validate(AdapterManifest m, IReadOnlyList<AdapterLayer> layers)
    {
        if (!IdPattern().IsMatch(m.Id ?? string.Empty))
        {
            throw new EdgeCodecFormatException($"Adapter id '{m.Id}' must be 1..64 lowercase letters, digits or dashes.");
        }

        if (m.ExpertId == 0 || m.Version < 1 || m.BaseModelSha256 is not { Length: 64 } || !m.BaseModelSha256.All(char.IsAsciiHexDigitLower))
        {
            throw new EdgeCodecFormatException($"Adapter '{m.Id}': expert id must be ≥ 1, version ≥ 1, base model a 64-digit lowercase SHA-256.");
        }

        if (layers.Count is 0 or > 64)
        {
            throw new EdgeCodecFormatException($"Adapter '{m.Id}' retunes {layers.Count} layers (1..64 allowed).");
        }

        foreach (var l in layers)
        {
            if (l.Channels is < 1 or > 4096 || l.Mult.Length != l.Channels || l.Shift.Length != l.Channels
                || l.Mult.Any(v => v <= 0) || l.Shift.Any(s => s is < 1 or > 62))
            {
                throw new EdgeCodecFormatException($"Adapter '{m.Id}', layer '{l.Output}': bad channel count, multiplier or shift.");
            }
        }
    }

    private static byte[] WriteWeights(IReadOnlyList<AdapterLayer> layers)
    {
        var bytes = new byte[layers.Sum(l => l.Channels * 12)];
        int pos = 0;
        foreach (var l in layers)
        {
            foreach (var array in new[] { l.Bias, l.Mult, l.Shift })
            {
                foreach (int v in array)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(pos), v);
                    pos += 4;
                }
            }
        }

        return bytes;
    }

    private static List<AdapterLayer> ReadWeights(AdapterManifest m, byte[] weights)
    {
        var outputs = m.LayerOutputs ?? [];
        var channels = m.LayerChannels ?? [];
        if (outputs.Count != channels.Count || outputs.Count is 0 or > 64 || channels.Any(c => c is < 1 or > 4096))
        {
            throw new EdgeCodecFormatException($"Adapter '{m.Id}': the layer list is malformed.");
        }

        long expected = channels.Sum(c => (long)c * 12);
        if (weights.Length != expected)
        {
            throw new EdgeCodecFormatException($"Adapter '{m.Id}': weights.bin has {weights.Length} bytes, the manifest implies {expected}.", FormatError.Truncated);
        }

        var layers = new List<AdapterLayer>();
        int pos = 0;
        for (int i = 0; i < outputs.Count; i++)
        {
            int[] Next(int n)
            {
                var a = new int[n];
                for (int j = 0; j < n; j++, pos += 4)
                {
                    a[j] = BinaryPrimitives.ReadInt32LittleEndian(weights.AsSpan(pos));
                }

                return a;
            }

            layers.Add(new AdapterLayer(outputs[i], Next(channels[i]), Next(channels[i]), Next(channels[i])));
        }

        return layers;
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        entry.LastWriteTime = s_fixedTime;
        using var s = entry.Open();
        s.Write(bytes);
    }

    private static byte[]? Entry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name);
        if (entry is null)
        {
            return null;
        }

        if (entry.Length > MaxPackageBytes)
        {
            throw new EdgeCodecFormatException($"Adapter entry {name} claims {entry.Length} bytes.", FormatError.LimitExceeded);
        }

        using var s = entry.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex IdPattern();
}
