namespace EdgeCodec.Format;

/// <summary>Limits applied while reading a container from untrusted input.</summary>
public sealed class ContainerReadOptions
{
    /// <summary>Shared default options; treat as read-only.</summary>
    public static ContainerReadOptions Default { get; } = new();

    /// <summary>Largest accepted file in bytes (default 1 GiB); checked before the file is buffered.</summary>
    public long MaxFileSize { get; init; } = 1L << 30;

    /// <summary>Largest number of packets accepted (default 1,048,576); index counts are checked against it before allocation.</summary>
    public int MaxPackets { get; init; } = 1 << 20;

    /// <summary>Limits for each packet.</summary>
    public PacketReaderOptions Packet { get; init; } = PacketReaderOptions.Default;
}
