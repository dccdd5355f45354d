using System.Buffers;
using System.IO.Hashing;
using MessagePack;

namespace EdgeCodec.Format;

/// <summary>
/// Hand-written MessagePack (de)serialisation of <see cref="LatentPacket"/>: no resolvers and no reflection,
/// so it is trimming- and Native-AOT-safe, and every field is range-checked.
/// </summary>
internal static class PacketSerializer
{
    public const int FieldCount = 10;

    /// <summary>Writes the MessagePack body (array of 10, CRC last) and returns it.</summary>
    public static void WriteBody(ArrayBufferWriter<byte> body, LatentPacket packet)
    {
        var writer = new MessagePackWriter(body);
        writer.WriteArrayHeader(FieldCount);
        writer.Write(packet.Version);
        writer.Write(packet.StreamId);
        writer.Write(packet.Sequence);
        writer.Write(packet.FrameIndex);
        writer.Write(packet.TileIndex);
        writer.Write(packet.Layer);
        writer.Write(packet.ExpertId);
        writer.Write(packet.ModelId);
        writer.Write(packet.Payload.Span);
        writer.Flush();

        // The CRC covers every byte before it, array header included, and is always the fixed 5-byte uint32 form.
        uint crc = Crc32.HashToUInt32(body.WrittenSpan);
        writer = new MessagePackWriter(body);
        writer.WriteUInt32(crc);
        writer.Flush();
    }

    /// <summary>Parses one body that must span <paramref name="body"/> exactly.</summary>
    /// <param name="body">The MessagePack body (possibly multi-segment).</param>
    /// <param name="options">Limits.</param>
    /// <param name="baseOffset">Offset of <paramref name="body"/> in the caller's input, for error reports.</param>
    public static LatentPacket Parse(ReadOnlySequence<byte> body, PacketReaderOptions options, long baseOffset)
    {
        var reader = new MessagePackReader(body);
        try
        {
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                throw Error("Packet is not a MessagePack array.", FormatError.Malformed, baseOffset);
            }

            int fields = reader.ReadArrayHeader();
            if (fields != FieldCount)
            {
                throw Error($"Packet array has {fields} elements; version 1 has {FieldCount}.", FormatError.Malformed, baseOffset);
            }

            byte version = reader.ReadByte();
            if (version != LatentPacket.CurrentVersion)
            {
                throw Error($"Packet version {version} is not supported (expected {LatentPacket.CurrentVersion}).", FormatError.UnsupportedVersion, baseOffset);
            }

            uint streamId = reader.ReadUInt32();
            ulong sequence = reader.ReadUInt64();
            uint frame = reader.ReadUInt32();
            ushort tile = reader.ReadUInt16();
            byte layer = reader.ReadByte();
            ushort expert = reader.ReadUInt16();
            ulong modelId = reader.ReadUInt64();
            if (reader.NextMessagePackType != MessagePackType.Binary)
            {
                throw Error("Packet payload is not a MessagePack bin.", FormatError.Malformed, baseOffset + reader.Consumed);
            }

            long payloadOffset = reader.Consumed;
            ReadOnlySequence<byte> payload = reader.ReadBytes() ?? throw Error("Packet payload is nil.", FormatError.Malformed, baseOffset + payloadOffset);
            if (payload.Length > options.MaxPayloadSize)
            {
                throw Error($"Packet payload of {payload.Length} bytes exceeds the limit of {options.MaxPayloadSize}.", FormatError.LimitExceeded, baseOffset + payloadOffset);
            }

            long crcOffset = reader.Consumed;
            uint crc = reader.ReadUInt32();
            if (!reader.End)
            {
                throw Error("Packet has bytes after its CRC.", FormatError.TrailingData, baseOffset + reader.Consumed);
            }

            // Verify before the payload is copied or handed to anyone.
            var hash = new Crc32();
            foreach (ReadOnlyMemory<byte> segment in body.Slice(0, crcOffset))
            {
                hash.Append(segment.Span);
            }

            if (hash.GetCurrentHashAsUInt32() != crc)
            {
                throw Error("Packet CRC32 mismatch: the packet was damaged.", FormatError.CrcMismatch, baseOffset + crcOffset);
            }

            return new LatentPacket
            {
                Version = version,
                StreamId = streamId,
                Sequence = sequence,
                FrameIndex = frame,
                TileIndex = tile,
                Layer = layer,
                ExpertId = expert,
                ModelId = modelId,
                Payload = payload.ToArray(),
                Crc32 = crc,
            };
        }
        // MessagePack 2.5.307 reports a bin/str length beyond the input as ArgumentOutOfRangeException from
        // ReadOnlySequence.Slice rather than EndOfStreamException (found by the smoke fuzzer), so that is data too.
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw new EdgeCodecFormatException($"Packet is malformed: {e.Message}", FormatError.Malformed, baseOffset + reader.Consumed, e);
        }
    }

    private static EdgeCodecFormatException Error(string message, FormatError error, long offset) => new(message, error, offset);
}
