namespace EdgeCodec.Evaluation;

/// <summary>Reported by <see cref="RdEvaluator.Evaluate"/> after each finished encode/decode/measure run.</summary>
/// <param name="Completed">Runs finished so far.</param>
/// <param name="Total">Runs in the whole evaluation (images x codecs x quality levels).</param>
/// <param name="Image">Image of the run that just finished.</param>
/// <param name="Codec">Codec of the run that just finished.</param>
/// <param name="Quality">Quality level of the run that just finished.</param>
public readonly record struct RdProgress(int Completed, int Total, string Image, string Codec, int Quality);
