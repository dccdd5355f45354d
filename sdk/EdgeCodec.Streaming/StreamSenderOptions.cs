namespace EdgeCodec.Streaming;

/// <summary>Settings of a <see cref="StreamSender"/>. Defaults suit a camera on a home network.</summary>
public sealed class StreamSenderOptions
{
    /// <summary>Model pack identity (<c>ModelPack.ModelId</c>); every packet and the receiver must match it. Required.</summary>
    public required ulong ModelId { get; init; }

    /// <summary>Stream id carried by every packet of this sender. Default 0.</summary>
    public uint StreamId { get; init; }

    /// <summary>Wire bytes of unacknowledged packets the sender keeps for retransmission; enqueueing waits above it. Default 32 MiB.</summary>
    public long RetransmitBufferBytes { get; init; } = 32L << 20;

    /// <summary>Rate controller; null for a new <see cref="DefaultRateController"/>.</summary>
    public IRateController? RateController { get; init; }

    /// <summary>
    /// Whether the transport may lose, duplicate or reorder whole messages (a relay that drops messages), so that the
    /// sender must detect losses within a connection and resend. Default false: on a byte stream such as TCP a message in
    /// flight is delivered or the connection fails, and the sender resends only after a reconnect, from the receiver's
    /// HELLO. A resend on a live TCP connection can only join the queue the original waits in: on a slow link whose
    /// acknowledgements were late (a busy receiver), timeouts resent everything in flight again and again and the
    /// link carried mostly copies (seen at 48 kbit/s in <c>device-tests/netns-stream.sh</c>).
    /// </summary>
    public bool LossyTransport { get; init; }

    /// <summary>
    /// With <see cref="LossyTransport"/>: lower bound of the retransmission timeout, the time without any
    /// acknowledgement after which everything in flight is resent (RFC 6298: smoothed RTT plus four deviations, at
    /// least twice the smoothed RTT, 1 s before the first sample, doubled per timeout in a row). Default 250 ms.
    /// </summary>
    public TimeSpan MinRetransmitTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Send a KEEPALIVE after this much silence. Default 1 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Give up on a connection after this much silence from the peer (also the HELLO timeout). Default 5 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Signed domain-adapter packages to deploy: each one whose expert id the receiver's HELLO does not list is pushed
    /// in resumable ADAPTER_CHUNKs before the next frames, on the same connection; the receiver installs it only after
    /// verification. Default none.
    /// </summary>
    public IReadOnlyList<EdgeCodec.Adapters.AdapterPackage> Adapters { get; init; } = [];

    /// <summary>
    /// Send packets as LATENT_COMPACT (without the version, stream id and model id the session already fixes: 12 bytes
    /// less per packet) when the receiver announces it can take them. Default true.
    /// </summary>
    public bool CompactLatents { get; init; } = true;

    /// <summary>Bytes per ADAPTER_CHUNK (1 KiB .. 32 KiB). Default 16 KiB.</summary>
    public int AdapterChunkSize { get; init; } = 16 << 10;

    /// <summary>Largest message accepted from the peer, checked before buffering it. Default 64 KiB (a sender only receives ACKs).</summary>
    public int MaxMessageSize { get; init; } = 64 << 10;
}
