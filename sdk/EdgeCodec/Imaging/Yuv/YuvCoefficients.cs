namespace EdgeCodec.Imaging;

/// <summary>
/// The fixed-point constants of one <see cref="YuvColorSpace"/>, in units of 2^-<see cref="Bits"/>, rounded once from the
/// standard's luma weights (Kr, Kb) and range. Every conversion is integer arithmetic on these, so its bytes are the same
/// on every machine and every kernel path.
/// </summary>
internal sealed class YuvCoefficients
{
    /// <summary>Fraction bits of every constant.</summary>
    public const int Bits = 14;

    /// <summary>Half a unit of the last place: added before the shift, so results round to nearest.</summary>
    public const int Half = 1 << (Bits - 1);

    private static readonly YuvCoefficients[] s_all =
        [Create(0.299, 0.114, limited: true), Create(0.299, 0.114, limited: false), Create(0.2126, 0.0722, limited: true), Create(0.2126, 0.0722, limited: false)];

    private YuvCoefficients()
    {
    }

    /// <summary>The luma offset: 16 in limited range, 0 in full range.</summary>
    public int YOffset { get; private init; }

    /// <summary>YUV → RGB: the gain of <c>Y − YOffset</c> (255/219 or 1).</summary>
    public int YGain { get; private init; }

    /// <summary>YUV → RGB: R's gain on <c>V − 128</c>.</summary>
    public int VToR { get; private init; }

    /// <summary>YUV → RGB: G's (subtracted) gain on <c>U − 128</c>.</summary>
    public int UToG { get; private init; }

    /// <summary>YUV → RGB: G's (subtracted) gain on <c>V − 128</c>.</summary>
    public int VToG { get; private init; }

    /// <summary>YUV → RGB: B's gain on <c>U − 128</c>.</summary>
    public int UToB { get; private init; }

    /// <summary>RGB → YUV: Y's weights of R, G and B (scaled to the luma range).</summary>
    public (int R, int G, int B) ToY { get; private init; }

    /// <summary>RGB → YUV: U's weights of R, G and B (scaled to the chroma range; they sum to 0).</summary>
    public (int R, int G, int B) ToU { get; private init; }

    /// <summary>RGB → YUV: V's weights of R, G and B (scaled to the chroma range; they sum to 0).</summary>
    public (int R, int G, int B) ToV { get; private init; }

    /// <summary>The constants of <paramref name="colorSpace"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="YuvColorSpace"/>.</exception>
    public static YuvCoefficients For(YuvColorSpace colorSpace) =>
        (uint)colorSpace < (uint)s_all.Length ? s_all[(int)colorSpace]
            : throw new ArgumentOutOfRangeException(nameof(colorSpace), colorSpace, "Not a YUV colour space.");

    private static YuvCoefficients Create(double kr, double kb, bool limited)
    {
        double kg = 1 - kr - kb;
        double yRange = limited ? 219 : 255, cRange = limited ? 224 : 255;
        double yGain = 255 / yRange, cGain = 255 / cRange;
        const double One = 1 << Bits;
        static int Q(double value) => (int)Math.Round(value * One, MidpointRounding.AwayFromZero);

        // Each row's G weight is what makes the row's sum exact: U and V weights sum to 0, so grey (R = G = B) gives
        // U = V = 128 exactly; Y's sum to the range's gain, so white is 235 (limited) or 255 (full).
        (int R, int G, int B) Row(double r, double sum, double b) => (Q(r), Q(sum) - Q(r) - Q(b), Q(b));

        double u = 1 / (2 * (1 - kb)) / cGain, v = 1 / (2 * (1 - kr)) / cGain;
        return new YuvCoefficients
        {
            YOffset = limited ? 16 : 0,
            YGain = Q(yGain),
            VToR = Q(2 * (1 - kr) * cGain),
            UToG = Q(2 * kb * (1 - kb) / kg * cGain),
            VToG = Q(2 * kr * (1 - kr) / kg * cGain),
            UToB = Q(2 * (1 - kb) * cGain),
            ToY = Row(kr / yGain, 1 / yGain, kb / yGain),
            ToU = Row(-kr * u, 0, (1 - kb) * u),
            ToV = Row((1 - kr) * v, 0, -kb * v),
        };
    }
}
