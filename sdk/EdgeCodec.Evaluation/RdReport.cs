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

    /// <summary>Reads a report written by <see cref="WriteJson"/>.</summary>
    /// <param name="stream">Readable stream; it is not disposed.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The JSON is malformed, lacks a required part, or has another schema version.</exception>
    /// <exception cref="IOException">Reading the stream failed.</exception>
    public static RdReport ReadJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RdReport? report;
        try
        {
            report = JsonSerializer.Deserialize(stream, RdReportJsonContext.Default.RdReport);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Not an RD report: {e.Message}", e);
        }

        if (report is null || report.Images is null || report.AverageCurves is null || report.Comparisons is null
            || report.TestCodec is null || report.AverageCurves.Any(c => c?.Codec is null || c.Points is null))
        {
            throw new InvalidDataException("Not an RD report: a required part is missing.");
        }

        if (report.SchemaVersion != CurrentSchemaVersion)
        {
            throw new InvalidDataException($"RD report schema version {report.SchemaVersion}; this library reads {CurrentSchemaVersion}.");
        }

        return report;
    }

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
