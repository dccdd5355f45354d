namespace EdgeCodec.Evaluation;

/// <summary>All measurements on one image.</summary>
/// <param name="Name">The name the image was given to <see cref="RdEvaluator.Evaluate"/>.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Measurements">One entry per codec and quality level, in codec order then quality order.</param>
public sealed record RdImageResult(string Name, int Width, int Height, IReadOnlyList<RdMeasurement> Measurements);
