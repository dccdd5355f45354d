using System.Text.Json.Serialization;

namespace EdgeCodec.Adapters;

/// <summary>The signature entry of a package (<c>signature.json</c>).</summary>
internal sealed record AdapterSignature(string Algorithm, string KeyId, string ContentSha256, string Signature);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AdapterManifest))]
[JsonSerializable(typeof(AdapterSignature))]
[JsonSerializable(typeof(AdapterRegistryState))]
internal sealed partial class AdapterJsonContext : JsonSerializerContext;
