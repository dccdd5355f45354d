namespace EdgeCodec.Evaluation;

/// <summary>One codec at one quality level on one image.</summary>
/// <param name="Codec">The codec's <see cref="IRdCodec.Name"/>.</param>
/// <param name="Quality">The quality level.</param>
/// <param name="Bytes">Encoded size in bytes.</param>
/// <param name="Bpp">Bits per pixel: <c>Bytes * 8 / (width * height)</c>.</param>
/// <param name="Psnr">RGB PSNR in dB, capped at <see cref="MaxDecibels"/> for a lossless result.</param>
/// <param name="MsSsim">MS-SSIM in [0, 1].</param>
/// <param name="MsSsimDb"><c>-10 * log10(1 - MsSsim)</c>, capped at <see cref="MaxDecibels"/>.</param>
/// <param name="EncodeSeconds">Wall-clock encode time (other images may be encoding concurrently).</param>
/// <param name="DecodeSeconds">Wall-clock decode time (other images may be decoding concurrently).</param>
public sealed record RdMeasurement(
    string Codec,
    int Quality,
    long Bytes,
    double Bpp,
    double Psnr,
    double MsSsim,
    double MsSsimDb,
    double EncodeSeconds,
    double DecodeSeconds)
{
    /// <summary>The codec's counters for this run (<see cref="RdSample.Counts"/>), or null.</summary>
    public IReadOnlyDictionary<string, long>? Counts { get; init; }

    /// <summary>Cap for decibel values, which are infinite for a lossless reconstruction (100 dB).</summary>
    public const double MaxDecibels = 100.0;

    /// <summary>This measurement as a point on a rate-distortion curve.</summary>
    public RdPoint ToPoint() => new(Bpp, Psnr, MsSsim);
}
