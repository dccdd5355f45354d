using System.Text.Json;

namespace EdgeCodec.Evaluation;

/// <summary>Everything one <see cref="RdEvaluator"/> run measured; serialisable to JSON (schema in <c>docs/evaluation.md</c>).</summary>
/// <param name="SchemaVersion">JSON schema version; bumped on incompatible changes.</param>
/// <param name="CreatedUtc">When the evaluation finished.</param>
/// <param name="TestCodec">The codec the BD-rates are computed for.</param>
/// <param name="Images">Per-image measurements, in input order.</param>
/// <param name="AverageCurves">One averaged curve per codec, in codec order.</param>
/// <param name="Comparisons">The test codec against every other codec.</param>
/// <param name="Summary">Headline numbers.</param>
public sealed record RdReport(
    int SchemaVersion,
    DateTimeOffset CreatedUtc,
    string TestCodec,
    IReadOnlyList<RdImageResult> Images,
    IReadOnlyList<RdCurve> AverageCurves,
    IReadOnlyList<RdComparison> Comparisons,
    RdSummary Summary)
{
    /// <summary>The <see cref="SchemaVersion"/> this library writes.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Writes the report as indented UTF-8 JSON with snake_case field names.</summary>
    /// <param name="stream">Writable stream; it is not disposed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="IOException">Writing the stream failed.</exception>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonSerializer.Serialize(stream, this, RdReportJsonContext.Default.RdReport);
    }
}
