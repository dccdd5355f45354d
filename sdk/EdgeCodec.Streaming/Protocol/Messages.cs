using EdgeCodec.Format;

namespace EdgeCodec.Streaming.Protocol;

/// <summary>Message type codes: the first element of every message array (docs/streaming.md).</summary>
internal enum MessageType : byte
{
    Hello = 1,
    Latent = 2,
    Header = 3,
    Ack = 4,
    KeepAlive = 5,
    Bye = 6,
    AdapterChunk = 7,
    AdapterStatus = 8,
    CompactLatent = 9,
}

/// <summary>HELLO capability bits.</summary>
[Flags]
internal enum Capabilities : uint
{
    None = 0,
    SelectiveAck = 1,
    Backfill = 2,
    DurableAck = 4,
    CompactLatent = 8,
}

internal abstract class Message
{
    public abstract MessageType Type { get; }
}

/// <summary>HELLO: role 0 = sender (camera), 1 = receiver. <see cref="Sequence"/>: the sender's lowest unacknowledged
/// sequence, or the receiver's resume point (every sequence below it is held durably).</summary>
internal sealed class HelloMessage : Message
{
    public const byte SenderRole = 0;
    public const byte ReceiverRole = 1;

    public override MessageType Type => MessageType.Hello;

    public uint ProtocolVersion { get; init; } = StreamProtocol.Version;

    public byte Role { get; init; }

    public uint StreamId { get; init; }

    public ulong ModelId { get; init; }

    public Capabilities Capabilities { get; init; }

    public IReadOnlyList<ushort> AdapterIds { get; init; } = [];

    public ulong Sequence { get; init; }
}

/// <summary>HEADER: the geometry of one frame, sent before its first LATENT on every connection.</summary>
internal sealed class HeaderMessage : Message
{
    public override MessageType Type => MessageType.Header;

    public uint StreamId { get; init; }

    public uint FrameIndex { get; init; }

    public required ContainerHeader Header { get; init; }
}

internal sealed class LatentMessage(LatentPacket packet) : Message
{
    public override MessageType Type => MessageType.Latent;

    public LatentPacket Packet { get; } = packet;
}

/// <summary>ACK: every sequence below <see cref="Cumulative"/> is held, and so is every [start, end) range.</summary>
internal sealed class AckMessage : Message
{
    public override MessageType Type => MessageType.Ack;

    public ulong Cumulative { get; init; }

    public IReadOnlyList<(ulong Start, ulong End)> Ranges { get; init; } = [];
}

internal sealed class KeepAliveMessage : Message
{
    public static readonly KeepAliveMessage Instance = new();

    public override MessageType Type => MessageType.KeepAlive;
}

internal sealed class ByeMessage : Message
{
    public const byte Finished = 0;
    public const byte ModelMismatch = 1;
    public const byte ProtocolMismatch = 2;
    public const byte ProtocolError = 3;

    public override MessageType Type => MessageType.Bye;

    public byte Reason { get; init; }

    public string Text { get; init; } = "";
}

/// <summary>ADAPTER_CHUNK: bytes [offset, offset + data) of a signed adapter package of <see cref="Total"/> bytes whose
/// SHA-256 is <see cref="Sha256"/>, pushed by the sender for expert <see cref="ExpertId"/>.</summary>
internal sealed class AdapterChunkMessage : Message
{
    public override MessageType Type => MessageType.AdapterChunk;

    public ushort ExpertId { get; init; }

    public required byte[] Sha256 { get; init; }

    public uint Total { get; init; }

    public uint Offset { get; init; }

    public ReadOnlyMemory<byte> Data { get; init; }
}

/// <summary>ADAPTER_STATUS: the receiver's state of one pushed package: <see cref="Have"/> contiguous bytes held.</summary>
internal sealed class AdapterStatusMessage : Message
{
    /// <summary>Receiving; the next chunk should start at <see cref="Have"/>.</summary>
    public const byte Receiving = 0;

    /// <summary>Verified and installed (active).</summary>
    public const byte Installed = 1;

    /// <summary>Complete but refused (signature, key, base model, layers, hash); the sender stops offering it.</summary>
    public const byte Rejected = 2;

    /// <summary>A chunk did not start at <see cref="Have"/>: resend from there.</summary>
    public const byte Resend = 3;

    public override MessageType Type => MessageType.AdapterStatus;

    public ushort ExpertId { get; init; }

    public required byte[] Sha256 { get; init; }

    public uint Have { get; init; }

    public byte State { get; init; }
}

/// <summary>LATENT_COMPACT: a packet without the fields the session fixes (version, stream id, model id); the receiver
/// rebuilds the packet from its session and checks the packet CRC, which still covers every field.</summary>
internal sealed class CompactLatentMessage : Message
{
    public override MessageType Type => MessageType.CompactLatent;

    public ulong Sequence { get; init; }

    public uint FrameIndex { get; init; }

    public ushort TileIndex { get; init; }

    public byte Layer { get; init; }

    public ushort ExpertId { get; init; }

    public ReadOnlyMemory<byte> Payload { get; init; }

    public uint Crc32 { get; init; }

    /// <summary>The full packet for this session, or null when its CRC does not match.</summary>
    public LatentPacket? ToPacket(uint streamId, ulong modelId)
    {
        LatentPacket Build(uint? crc) => new()
        {
            StreamId = streamId, Sequence = Sequence, FrameIndex = FrameIndex, TileIndex = TileIndex, Layer = Layer,
            ExpertId = ExpertId, ModelId = modelId, Payload = Payload, Crc32 = crc,
        };

        var body = new System.Buffers.ArrayBufferWriter<byte>(Payload.Length + 48);
        PacketSerializer.WriteBody(body, Build(null));
        uint crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body.WrittenSpan[^4..]);
        return crc == Crc32 ? Build(crc) : null;
    }
}
