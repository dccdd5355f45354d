using System.Text.Json.Serialization;

namespace EdgeCodec.Evaluation;

/// <summary>Source-generated (reflection-free, AOT-safe) serializer for <see cref="RdReport"/>.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RdReport))]
internal sealed partial class RdReportJsonContext : JsonSerializerContext;
