namespace EdgeCodec.Streaming.Protocol;

internal static class StreamProtocol
{
    public const uint Version = 1;

    /// <summary>Largest number of selective ranges in one ACK.</summary>
    public const int MaxAckRanges = 64;

    /// <summary>Largest number of adapter ids in one HELLO.</summary>
    public const int MaxAdapterIds = 1024;

    /// <summary>Longest BYE text in UTF-8 bytes.</summary>
    public const int MaxByeTextBytes = 512;

    /// <summary>Largest adapter package that may be pushed (the package format's own limit).</summary>
    public const int MaxAdapterBytes = EdgeCodec.Adapters.AdapterPackage.MaxPackageBytes;

    /// <summary>Largest ADAPTER_CHUNK data.</summary>
    public const int MaxAdapterChunk = 32 << 10;

    /// <summary>Upper bound of the HEADER and HELLO bodies without the adapter list.</summary>
    public const int MaxSmallMessageSize = 128;
}
