using System.Buffers;
using EdgeCodec.Format;
using MessagePack;

namespace EdgeCodec.Streaming.Protocol;

/// <summary>
/// Writes and parses session messages: <c>varint(length) body</c>, where body is a MessagePack array whose first
/// element is the <see cref="MessageType"/>. Byte layout in docs/streaming.md. Hand-written on
/// <see cref="MessagePackWriter"/>/<see cref="MessagePackReader"/>: no reflection, no resolver.
/// </summary>
internal static class MessageCodec
{
    /// <summary>Writes a LATENT message around an already serialized packet body (the packet's MessagePack array).</summary>
    public static void WriteLatent(IBufferWriter<byte> output, ReadOnlySpan<byte> packetBody)
    {
        uint length = checked((uint)packetBody.Length + 2);
        Span<byte> span = output.GetSpan(Varint.MaxLength + 2 + packetBody.Length);
        int n = Varint.Write(span, length);
        span[n++] = 0x92; // fixarray(2)
        span[n++] = (byte)MessageType.Latent; // positive fixint
        packetBody.CopyTo(span[n..]);
        output.Advance(n + packetBody.Length);
    }

    /// <summary>
    /// The whole LATENT_COMPACT message array for a packet whose full body (<see cref="SerializePacketBody"/>) is
    /// <paramref name="fullBody"/>: sequence, frame, tile, layer, expert, payload and the same CRC (the body's last 4 bytes).
    /// </summary>
    public static byte[] SerializeCompactLatent(LatentPacket packet, ReadOnlySpan<byte> fullBody)
    {
        var buffer = new ArrayBufferWriter<byte>(packet.Payload.Length + 32);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(8);
        w.Write((byte)MessageType.CompactLatent);
        w.Write(packet.Sequence);
        w.Write(packet.FrameIndex);
        w.Write(packet.TileIndex);
        w.Write(packet.Layer);
        w.Write(packet.ExpertId);
        w.Write(packet.Payload.Span);
        w.WriteUInt32(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(fullBody[^4..]));
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <c>varint(length) message</c> for a message array serialized in advance.</summary>
    public static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> message)
    {
        Span<byte> span = output.GetSpan(Varint.MaxLength + message.Length);
        int n = Varint.Write(span, (uint)message.Length);
        message.CopyTo(span[n..]);
        output.Advance(n + message.Length);
    }

    /// <summary>Serializes <paramref name="packet"/> once into the body bytes that <see cref="WriteLatent"/> wraps.</summary>
    public static byte[] SerializePacketBody(LatentPacket packet)
    {
        byte[] framed = PacketFraming.ToArray(packet);
        Varint.TryRead(framed, out _, out int prefix);
        return framed[prefix..];
    }

    /// <summary>Writes any non-LATENT message; <paramref name="scratch"/> is reset and reused for the body.</summary>
    public static void Write(IBufferWriter<byte> output, Message message, ArrayBufferWriter<byte> scratch)
    {
        scratch.ResetWrittenCount();
        var w = new MessagePackWriter(scratch);
        switch (message)
        {
            case HelloMessage hello:
                w.WriteArrayHeader(8);
                w.Write((byte)MessageType.Hello);
                w.Write(hello.ProtocolVersion);
                w.Write(hello.Role);
                w.Write(hello.StreamId);
                w.Write(hello.ModelId);
                w.Write((uint)hello.Capabilities);
                w.WriteArrayHeader(hello.AdapterIds.Count);
                foreach (ushort id in hello.AdapterIds)
                {
                    w.Write(id);
                }

                w.Write(hello.Sequence);
                break;
            case HeaderMessage header:
                var h = header.Header;
                w.WriteArrayHeader(h.PreviewLayer ? 11 : 10); // the flags element only when set: older receivers read the rest
                w.Write((byte)MessageType.Header);
                w.Write(header.StreamId);
                w.Write(header.FrameIndex);
                w.Write(h.ModelId);
                w.Write(h.Width);
                w.Write(h.Height);
                w.Write(h.TileWidth);
                w.Write(h.TileHeight);
                w.Write(h.LayerCount);
                w.Write(h.QualityLevel);
                if (h.PreviewLayer)
                {
                    w.Write(ContainerHeader.PreviewLayerFlag);
                }

                break;
            case AckMessage ack:
                w.WriteArrayHeader(3);
                w.Write((byte)MessageType.Ack);
                w.Write(ack.Cumulative);
                w.WriteArrayHeader(ack.Ranges.Count * 2);
                foreach (var (start, end) in ack.Ranges)
                {
                    w.Write(start);
                    w.Write(end);
                }

                break;
            case KeepAliveMessage:
                w.WriteArrayHeader(1);
                w.Write((byte)MessageType.KeepAlive);
                break;
            case ByeMessage bye:
                w.WriteArrayHeader(3);
                w.Write((byte)MessageType.Bye);
                w.Write(bye.Reason);
                w.Write(bye.Text);
                break;
            case AdapterChunkMessage chunk:
                w.WriteArrayHeader(6);
                w.Write((byte)MessageType.AdapterChunk);
                w.Write(chunk.ExpertId);
                w.Write(chunk.Sha256);
                w.Write(chunk.Total);
                w.Write(chunk.Offset);
                w.Write(chunk.Data.Span);
                break;
            case AdapterStatusMessage status:
                w.WriteArrayHeader(5);
                w.Write((byte)MessageType.AdapterStatus);
                w.Write(status.ExpertId);
                w.Write(status.Sha256);
                w.Write(status.Have);
                w.Write(status.State);
                break;
            default:
                throw new ArgumentException($"Cannot write {message.GetType().Name} here.", nameof(message));
        }

        w.Flush();
        Span<byte> prefix = output.GetSpan(Varint.MaxLength);
        output.Advance(Varint.Write(prefix, (uint)scratch.WrittenCount));
        output.Write(scratch.WrittenSpan);
    }

    /// <summary>
    /// Parses one message from the start of <paramref name="buffer"/> and advances past it; false (buffer unchanged)
    /// while the message is incomplete. The length prefix is checked against <paramref name="maxMessageSize"/> before
    /// anything is sliced or allocated, so an oversized announcement fails without buffering its body.
    /// </summary>
    /// <exception cref="StreamProtocolException">Malformed or oversized message.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out Message? message)
    {
        message = null;
        var status = Varint.TryRead(buffer, out int length, out int prefix);
        if (status == FormatError.Truncated)
        {
            return false;
        }

        if (status != FormatError.None || length == 0)
        {
            throw new StreamProtocolException("Message length prefix is not a minimal LEB128 integer in 1..2^31-1.");
        }

        if (length > maxMessageSize)
        {
            throw new StreamProtocolException($"Message of {length} bytes exceeds the limit of {maxMessageSize} bytes.");
        }

        if (buffer.Length - prefix < length)
        {
            return false;
        }

        var body = buffer.Slice(prefix, length);
        message = Parse(body, maxMessageSize);
        buffer = buffer.Slice(body.End);
        return true;
    }

    private static Message Parse(ReadOnlySequence<byte> body, int maxMessageSize)
    {
        try
        {
            var r = new MessagePackReader(body);
            int count = r.ReadArrayHeader();
            if (count < 1)
            {
                throw new StreamProtocolException("Empty message array.");
            }

            byte type = r.ReadByte();
            Message message = (MessageType)type switch
            {
                MessageType.Latent when count == 2 => ParseLatent(body.Slice(r.Consumed), maxMessageSize, ref r),
                MessageType.Hello when count == 8 => ParseHello(ref r),
                MessageType.Header when count is 10 or 11 => ParseHeader(ref r, flagged: count == 11),
                MessageType.Ack when count == 3 => ParseAck(ref r),
                MessageType.KeepAlive when count == 1 => KeepAliveMessage.Instance,
                MessageType.Bye when count == 3 => ParseBye(ref r),
                MessageType.AdapterChunk when count == 6 => ParseAdapterChunk(ref r),
                MessageType.AdapterStatus when count == 5 => ParseAdapterStatus(ref r),
                MessageType.CompactLatent when count == 8 => ParseCompactLatent(ref r, maxMessageSize),
                _ => throw new StreamProtocolException($"Unknown message type {type} or wrong element count {count}."),
            };
            if (!r.End)
            {
                throw new StreamProtocolException($"Bytes after the end of a {(MessageType)type} message.");
            }

            return message;
        }
        catch (MessagePackSerializationException e)
        {
            throw new StreamProtocolException("Malformed message: " + e.Message, e);
        }
        catch (EndOfStreamException e)
        {
            throw new StreamProtocolException("Message body ends early.", e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // MessagePackReader.ReadBytes/ReadStringSequence slice before checking that a bin/str length fits in the
            // body (found by the "message" fuzz target): a length past the end is a truncated message.
            throw new StreamProtocolException("Message body ends early (a bin or str length runs past it).", e);
        }
        catch (OverflowException e)
        {
            throw new StreamProtocolException("Message integer out of range.", e);
        }
    }

    private static LatentMessage ParseLatent(ReadOnlySequence<byte> packetBody, int maxMessageSize, ref MessagePackReader r)
    {
        // PacketFraming parses framed packets; give it a varint prefix in front of the body without copying the body.
        byte[] prefix = new byte[Varint.MaxLength];
        int n = Varint.Write(prefix, (uint)packetBody.Length);
        var framed = PrefixedSequence.Create(prefix.AsMemory(0, n), packetBody);
        var options = new PacketReaderOptions { MaxFrameSize = maxMessageSize, MaxPayloadSize = maxMessageSize };
        try
        {
            if (!PacketFraming.TryRead(ref framed, options, out var packet) || framed.Length != 0)
            {
                throw new StreamProtocolException("LATENT body is not exactly one packet.");
            }

            r.Skip();
            return new LatentMessage(packet);
        }
        catch (EdgeCodecFormatException e)
        {
            throw new StreamProtocolException("LATENT carries an invalid packet: " + e.Message, e);
        }
    }

    private static HelloMessage ParseHello(ref MessagePackReader r)
    {
        uint version = r.ReadUInt32();
        byte role = r.ReadByte();
        uint streamId = r.ReadUInt32();
        ulong modelId = r.ReadUInt64();
        uint caps = r.ReadUInt32();
        int adapters = r.ReadArrayHeader();
        if (adapters > StreamProtocol.MaxAdapterIds)
        {
            throw new StreamProtocolException($"HELLO lists {adapters} adapters; at most {StreamProtocol.MaxAdapterIds} are accepted.");
        }

        var ids = new ushort[adapters];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = r.ReadUInt16();
        }

        ulong sequence = r.ReadUInt64();
        if (role > HelloMessage.ReceiverRole)
        {
            throw new StreamProtocolException($"HELLO role {role} is unknown.");
        }

        return new HelloMessage
        {
            ProtocolVersion = version, Role = role, StreamId = streamId, ModelId = modelId,
            Capabilities = (Capabilities)caps, AdapterIds = ids, Sequence = sequence,
        };
    }

    private static HeaderMessage ParseHeader(ref MessagePackReader r, bool flagged)
    {
        uint streamId = r.ReadUInt32();
        uint frame = r.ReadUInt32();
        ulong modelId = r.ReadUInt64();
        int width = r.ReadInt32();
        int height = r.ReadInt32();
        int tileWidth = r.ReadInt32();
        int tileHeight = r.ReadInt32();
        byte layers = r.ReadByte();
        byte quality = r.ReadByte();
        byte flags = flagged ? r.ReadByte() : (byte)0;
        if (flagged && flags != ContainerHeader.PreviewLayerFlag)
        {
            throw new StreamProtocolException($"HEADER flags 0x{flags:x2} are not supported (an 11th element is sent only with the preview-layer flag).");
        }

        try
        {
            // Frame count 0: a live stream; the per-frame store file accepts any frame index.
            var header = ContainerHeader.Create(modelId, width, height, tileWidth, tileHeight, layers, 0, quality, flags != 0);
            return new HeaderMessage { StreamId = streamId, FrameIndex = frame, Header = header };
        }
        catch (ArgumentException e)
        {
            throw new StreamProtocolException("HEADER geometry is invalid: " + e.Message, e);
        }
    }

    private static AckMessage ParseAck(ref MessagePackReader r)
    {
        ulong cumulative = r.ReadUInt64();
        int count = r.ReadArrayHeader();
        if (count % 2 != 0 || count / 2 > StreamProtocol.MaxAckRanges)
        {
            throw new StreamProtocolException($"ACK range list has {count} integers; expected pairs, at most {StreamProtocol.MaxAckRanges}.");
        }

        var ranges = new (ulong, ulong)[count / 2];
        ulong previousEnd = cumulative;
        for (int i = 0; i < ranges.Length; i++)
        {
            ulong start = r.ReadUInt64();
            ulong end = r.ReadUInt64();
            if (start <= previousEnd || end <= start)
            {
                throw new StreamProtocolException("ACK ranges must be non-empty, ascending, disjoint and above the cumulative point.");
            }

            ranges[i] = (start, end);
            previousEnd = end;
        }

        return new AckMessage { Cumulative = cumulative, Ranges = ranges };
    }

    private static CompactLatentMessage ParseCompactLatent(ref MessagePackReader r, int maxMessageSize)
    {
        ulong sequence = r.ReadUInt64();
        uint frame = r.ReadUInt32();
        ushort tile = r.ReadUInt16();
        byte layer = r.ReadByte();
        ushort expert = r.ReadUInt16();
        var payload = r.ReadBytes();
        if (payload is not { } p || p.Length > maxMessageSize)
        {
            throw new StreamProtocolException("LATENT_COMPACT has no payload or an oversized one.");
        }

        uint crc = r.ReadUInt32();
        return new CompactLatentMessage
        {
            Sequence = sequence, FrameIndex = frame, TileIndex = tile, Layer = layer, ExpertId = expert,
            Payload = System.Buffers.BuffersExtensions.ToArray(p), Crc32 = crc,
        };
    }

    private static byte[] ReadSha256(ref MessagePackReader r)
    {
        var bytes = r.ReadBytes();
        if (bytes is not { Length: 32 } b)
        {
            throw new StreamProtocolException("An adapter hash must be 32 bytes (SHA-256).");
        }

        return System.Buffers.BuffersExtensions.ToArray(b);
    }

    private static AdapterChunkMessage ParseAdapterChunk(ref MessagePackReader r)
    {
        ushort expert = r.ReadUInt16();
        byte[] sha = ReadSha256(ref r);
        uint total = r.ReadUInt32();
        uint offset = r.ReadUInt32();
        var data = r.ReadBytes();
        long length = data?.Length ?? -1;
        if (expert == 0 || total == 0 || total > StreamProtocol.MaxAdapterBytes || length < 1 || length > StreamProtocol.MaxAdapterChunk
            || offset + length > total)
        {
            throw new StreamProtocolException($"ADAPTER_CHUNK out of bounds (expert {expert}, total {total}, offset {offset}, {length} bytes).");
        }

        return new AdapterChunkMessage
        {
            ExpertId = expert, Sha256 = sha, Total = total, Offset = offset,
            Data = System.Buffers.BuffersExtensions.ToArray(data!.Value),
        };
    }

    private static AdapterStatusMessage ParseAdapterStatus(ref MessagePackReader r)
    {
        ushort expert = r.ReadUInt16();
        byte[] sha = ReadSha256(ref r);
        uint have = r.ReadUInt32();
        byte state = r.ReadByte();
        if (state > AdapterStatusMessage.Resend || have > StreamProtocol.MaxAdapterBytes)
        {
            throw new StreamProtocolException($"ADAPTER_STATUS state {state} or byte count {have} is invalid.");
        }

        return new AdapterStatusMessage { ExpertId = expert, Sha256 = sha, Have = have, State = state };
    }

    private static ByeMessage ParseBye(ref MessagePackReader r)
    {
        byte reason = r.ReadByte();
        var text = r.ReadStringSequence();
        if (text is { Length: > StreamProtocol.MaxByeTextBytes })
        {
            throw new StreamProtocolException("BYE text is too long.");
        }

        return new ByeMessage { Reason = reason, Text = text is null ? "" : System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(text.Value)) };
    }
}
