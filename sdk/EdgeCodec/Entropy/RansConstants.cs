namespace EdgeCodec.Entropy;

/// <summary>Numeric constants of the rANS bitstream (see docs/entropy.md).</summary>
internal static class RansConstants
{
    /// <summary>Lower bound L of the normalised state interval [L, 2^31); also every lane's initial and final state.</summary>
    public const uint StateLow = 1u << 23;

    /// <summary>Encoder renormalisation threshold is <c>freq &lt;&lt; EncodeShift</c> = ((L &gt;&gt; 16) &lt;&lt; 8) * freq.</summary>
    public const int EncodeShift = 23 - CdfTableSet.PrecisionBits + 8;

    /// <summary>Bypass length symbol: (chunk count - 1) in 0..7, uniform, frequency 2^13.</summary>
    public const int LengthBits = 3;

    /// <summary>Bypass chunk symbol: 4 bits of the zig-zagged value, uniform, frequency 2^12.</summary>
    public const int ChunkBits = 4;

    /// <summary>Bytes of the final state written at the front of every non-empty lane.</summary>
    public const int StateBytes = 4;

    /// <summary>
    /// Upper bound on bytes a lane emits per value: a direct symbol emits at most 2 bytes (frequency &gt;= 1);
    /// an escape emits at most 2 + 1 (length) + 8 * 1 (chunks).
    /// </summary>
    public const int MaxBytesPerDirect = 2;

    /// <inheritdoc cref="MaxBytesPerDirect"/>
    public const int MaxBytesPerEscape = 11;
}
