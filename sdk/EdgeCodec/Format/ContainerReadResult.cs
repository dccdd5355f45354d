namespace EdgeCodec.Format;

/// <summary>What <see cref="ContainerReader"/> recovered from a container file, and why it stopped.</summary>
public sealed class ContainerReadResult
{
    internal ContainerReadResult(ContainerHeader header, IReadOnlyList<LatentPacket> packets, IReadOnlyList<ContainerIndexEntry> entries, ContainerReadStatus status, long bytesConsumed, long? firstBadOffset, bool usedIndex, string? message, ContainerLayout layout = ContainerLayout.Indexed)
    {
        Header = header;
        Packets = packets;
        Entries = entries;
        Status = status;
        BytesConsumed = bytesConsumed;
        FirstBadOffset = firstBadOffset;
        UsedIndex = usedIndex;
        Message = message;
        Layout = layout;
    }

    /// <summary>The file header.</summary>
    public ContainerHeader Header { get; }

    /// <summary>How the file lays out its packets.</summary>
    public ContainerLayout Layout { get; }

    /// <summary>Every intact packet in file order (a prefix of the file), CRC-verified.</summary>
    public IReadOnlyList<LatentPacket> Packets { get; }

    /// <summary>Location of each packet in <see cref="Packets"/>, same order.</summary>
    public IReadOnlyList<ContainerIndexEntry> Entries { get; }

    /// <summary>How the read ended.</summary>
    public ContainerReadStatus Status { get; }

    /// <summary><see langword="true"/> when the whole file is intact (an indexed file's packets, index and footer; every packet a compact file announces).</summary>
    public bool IsComplete => Status == ContainerReadStatus.Complete;

    /// <summary>Number of packets recovered.</summary>
    public int PacketsRecovered => Packets.Count;

    /// <summary>Offset just past the last intact packet: where an appender truncates and continues.</summary>
    public long BytesConsumed { get; }

    /// <summary>Offset of the first byte that could not be used, or <see langword="null"/> when the file is complete.</summary>
    public long? FirstBadOffset { get; }

    /// <summary><see langword="true"/> when the packets were located through the index rather than by scanning (never for <see cref="ContainerLayout.Compact"/>).</summary>
    public bool UsedIndex { get; }

    /// <summary>Human-readable detail of why the read stopped early, or <see langword="null"/>.</summary>
    public string? Message { get; }
}
