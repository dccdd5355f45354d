namespace EdgeCodec.Inference;

/// <summary>The integer helpers of docs/model-pack.md, "Integer graphs".</summary>
/// <remarks>
/// All arithmetic is <see langword="unchecked"/> 64-bit two's complement, exactly like the numpy int64 of
/// training/intref.py: even a (spec-violating) overflow gives the same bits as the reference.
/// </remarks>
internal static class IntegerMath
{
    /// <summary><c>(x + 2^(shift-1)) &gt;&gt; shift</c>, arithmetic shift (floor), so halves round up: -5/4 → -1, -6/4 → -1, -7/4 → -2.</summary>
    public static long RshiftRound(long x, int shift) => unchecked(x + (1L << (shift - 1))) >> shift;

    /// <summary><c>rshift_round(acc · mult, shift)</c>.</summary>
    public static long Requant(long acc, int mult, int shift) => RshiftRound(unchecked(acc * mult), shift);

    public static long Clamp(long v, long lo, long hi) => v < lo ? lo : v > hi ? hi : v;
}
