using EdgeCodec.Format;

namespace EdgeCodec.Streaming;

internal sealed class SenderPacket(LatentPacket packet, byte[] body, SenderFrame frame)
{
    public LatentPacket Packet { get; } = packet;

    /// <summary>The packet's MessagePack array, serialized once; LATENT wraps it.</summary>
    public byte[] Body { get; } = body;

    /// <summary>Bytes of the whole LATENT message (prefix, array header, type, body).</summary>
    public int WireSize { get; } = WireSizeOf(body.Length);

    /// <summary>Bytes of the LATENT message around a packet body of <paramref name="bodyLength"/> bytes.</summary>
    public static int WireSizeOf(int bodyLength) => bodyLength + 2 + Format.Varint.Length((uint)bodyLength + 2);

    public SenderFrame Frame { get; } = frame;

    /// <summary>The LATENT_COMPACT message array (built on first use, for receivers that announce the capability).</summary>
    public byte[] CompactMessage => _compact ??= Protocol.MessageCodec.SerializeCompactLatent(Packet, Body);

    /// <summary>Bytes of the whole LATENT_COMPACT message (prefix included).</summary>
    public int CompactWireSize => CompactMessage.Length + Format.Varint.Length((uint)CompactMessage.Length);

    private byte[]? _compact;

    public bool Acked { get; set; }

    /// <summary>Connection it is in flight on (0 = not in flight).</summary>
    public int InFlightOn { get; set; }

    public bool Retransmitted { get; set; }

    public long SentAt { get; set; }

    /// <summary>Position of its latest send among all sends of the sender (orders packets sent in one batch, at one time).</summary>
    public long SendOrder { get; set; }

    public long DeliveredAtSend { get; set; }

    public long DeliveredTimeAtSend { get; set; }

    /// <summary>Sent while the sender had nothing more to send (its delivery-rate sample measures the application, not the link).</summary>
    public bool AppLimitedAtSend { get; set; }
}

internal sealed class SenderFrame(ContainerHeader header, uint index)
{
    public ContainerHeader Header { get; } = header;

    public uint Index { get; } = index;

    public SenderPacket[] Packets { get; set; } = [];

    public long[] LayerBytes { get; set; } = [];

    public long TotalBytes { get; set; }

    /// <summary>Packets released for sending: a prefix of <see cref="Packets"/> ending on a layer boundary.</summary>
    public int Released { get; set; }

    public bool Decided { get; set; }

    /// <summary>Next packet to send on the current connection (acknowledged ones are skipped).</summary>
    public int NextToSend { get; set; }

    public int Unacked { get; set; }

    public int HeaderSentOn { get; set; }
}

/// <summary>One adapter package being pushed: what the receiver confirmed and where this connection continues.</summary>
internal sealed class AdapterPush(ushort expertId, string id, byte[] bytes)
{
    public ushort ExpertId { get; } = expertId;

    public string Id { get; } = id;

    public byte[] Bytes { get; } = bytes;

    public byte[] Sha256 { get; } = System.Security.Cryptography.SHA256.HashData(bytes);

    /// <summary>Contiguous bytes the receiver confirmed holding.</summary>
    public int Confirmed { get; set; }

    /// <summary>Next byte to send on the current connection.</summary>
    public int Next { get; set; }

    /// <summary>The receiver installed it, already held it, or refused it: nothing more to send.</summary>
    public bool Settled { get; set; }
}
