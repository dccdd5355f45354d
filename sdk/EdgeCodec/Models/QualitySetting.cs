namespace EdgeCodec.Models;

/// <summary>
/// What an encoder is asked for: a latent quality level and, optionally, a residual layer with one of the pack's
/// steps (<see cref="ModelPack.ResidualSteps"/>) on top of it. <see cref="ModelPack.QualityLadder"/> lists the
/// settings worth using, in order of size.
/// </summary>
/// <param name="Level">The quality level, 0 .. <c>QualityLevels.Count - 1</c>.</param>
/// <param name="ResidualStep">The residual layer's step index, or null for no residual layer.</param>
public sealed record QualitySetting(int Level, int? ResidualStep)
{
    /// <summary>"3" for a level alone, "3+r2" with residual step 2.</summary>
    public override string ToString() => ResidualStep is { } s ? $"{Level}+r{s}" : $"{Level}";
}
