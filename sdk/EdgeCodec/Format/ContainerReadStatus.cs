namespace EdgeCodec.Format;

/// <summary>How a container read ended.</summary>
public enum ContainerReadStatus
{
    /// <summary>Every packet, the index and the footer are intact.</summary>
    Complete = 0,

    /// <summary>The file ends early (an interrupted write or download); every whole packet before the cut was recovered.</summary>
    Truncated,

    /// <summary>A packet failed its CRC32; the packets before it were recovered.</summary>
    CrcMismatch,

    /// <summary>A packet is malformed, belongs to another model, lies outside the tile grid or breaks prefix order.</summary>
    Malformed,

    /// <summary>All packets were recovered by scanning, but the index or footer after them is damaged.</summary>
    IndexCorrupt,

    /// <summary>A limit in <see cref="ContainerReadOptions"/> stopped the read.</summary>
    LimitExceeded,
}
