using System.Text.Json.Serialization;

namespace EdgeCodec.Cli.Commands;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DecodeReport))]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
