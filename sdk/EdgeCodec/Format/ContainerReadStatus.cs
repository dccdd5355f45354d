namespace EdgeCodec.Format;

/// <summary>How a container read ended.</summary>
public enum ContainerReadStatus
{
    /// <summary>The whole file is intact: every packet, and an indexed file's index and footer.</summary>
    Complete = 0,

    /// <summary>The file ends early (an interrupted write or download); every whole packet before the cut was recovered.</summary>
    Truncated,

    /// <summary>A packet failed its CRC32; the packets before it were recovered.</summary>
    CrcMismatch,

    /// <summary>
    /// A packet is malformed, belongs to another model, lies outside the tile grid or breaks prefix order; or bytes
    /// follow the last packet a compact file announces (every packet was then recovered).
    /// </summary>
    Malformed,

    /// <summary>All packets were recovered by scanning, but the index or footer after them is damaged.</summary>
    IndexCorrupt,

    /// <summary>A limit in <see cref="ContainerReadOptions"/> stopped the read.</summary>
    LimitExceeded,
}
