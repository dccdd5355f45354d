namespace EdgeCodec.Format;

/// <summary>Limits applied while parsing packets from untrusted input. Immutable once built, so the shared <see cref="Default"/> cannot be loosened by one caller for all others.</summary>
public sealed class PacketReaderOptions
{
    /// <summary>Default payload limit: 16 MiB.</summary>
    public const int DefaultMaxPayloadSize = 16 << 20;

    /// <summary>Upper bound of the packet fields around the payload (array, integers, bin header, CRC) in bytes.</summary>
    public const int MaxEnvelopeSize = 64;

    private int _maxPayloadSize = DefaultMaxPayloadSize;
    private int _maxFrameSize = DefaultMaxPayloadSize + MaxEnvelopeSize;

    /// <summary>Shared default options (16 MiB payloads).</summary>
    public static PacketReaderOptions Default { get; } = new();

    /// <summary>Largest accepted MessagePack body after the length prefix, checked before any allocation (default 16 MiB + 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxFrameSize
    {
        get => _maxFrameSize;
        init => _maxFrameSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "MaxFrameSize must be positive.");
    }

    /// <summary>Largest accepted payload (default 16 MiB).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxPayloadSize
    {
        get => _maxPayloadSize;
        init => _maxPayloadSize = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "MaxPayloadSize must not be negative.");
    }
}
