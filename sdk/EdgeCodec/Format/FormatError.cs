namespace EdgeCodec.Format;

/// <summary>Category of a data error reported by <see cref="EdgeCodecFormatException"/>.</summary>
public enum FormatError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The data is structurally invalid (wrong type, wrong count, value out of range).</summary>
    Malformed,

    /// <summary>The data ends before the structure it announces is complete.</summary>
    Truncated,

    /// <summary>A CRC32 check failed: the bytes were damaged after they were written.</summary>
    CrcMismatch,

    /// <summary>A declared size or count exceeds a configured limit; nothing was allocated for it.</summary>
    LimitExceeded,

    /// <summary>Bytes remain after a structure that must end exactly at the end of its input.</summary>
    TrailingData,

    /// <summary>An entropy-coded lane needed more bytes than it was given.</summary>
    LaneExhausted,

    /// <summary>An entropy-coded lane did not end in the initial coder state (end-of-stream check failed).</summary>
    FinalStateMismatch,

    /// <summary>A CDF table set violates its invariants (endpoints, monotonicity, sizes).</summary>
    InvalidTable,

    /// <summary>A magic number or version field does not match this implementation.</summary>
    UnsupportedVersion,
}
