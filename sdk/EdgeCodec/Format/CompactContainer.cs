using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace EdgeCodec.Format;

/// <summary>
/// The compact container layout (<see cref="ContainerLayout.Compact"/>; byte layout in <c>docs/format.md</c>): one
/// frame, written whole, whose packets follow each other in the fixed prefix order (layer by layer, tile by tile)
/// as <c>varint length, [varint expert], payload, CRC-32</c>. Nothing names a packet's place: its position does,
/// and its CRC is seeded with the header's CRC and its position, so a packet moved within a file or spliced in from
/// another file fails its check.
/// </summary>
internal static class CompactContainer
{
    public const byte Version = 1;

    /// <summary>Header flag: every packet carries its expert id (written when any packet's expert is not 0).</summary>
    public const byte ExpertsFlag = 1;

    /// <summary>Header flag: the stream has a preview layer (<see cref="ContainerHeader.PreviewLayer"/>).</summary>
    public const byte PreviewLayerFlag = 2;

    private const int FixedHeaderBytes = 4 + 1 + 8;  // magic, version, model id
    private const int MaxHeaderBytes = FixedHeaderBytes + (6 * Varint.MaxLength) + 3 + 4;

    public static ReadOnlySpan<byte> Magic => "ECXC"u8;

    public static bool HasMagic(ReadOnlySpan<byte> file) => file.Length >= 4 && file[..4].SequenceEqual(Magic);

    /// <summary>Writes a complete compact container of <paramref name="packets"/>, which must be a prefix of one frame's packets in prefix order.</summary>
    /// <exception cref="ArgumentException">The header is invalid or the packets are not such a prefix.</exception>
    /// <returns>Bytes written.</returns>
    public static long Write(ContainerHeader header, IReadOnlyList<LatentPacket> packets, Stream destination)
    {
        header.Validate();
        uint frame = packets.Count > 0 ? packets[0].FrameIndex : 0;
        if (header.FrameCount != 0 && frame >= header.FrameCount)
        {
            throw new ArgumentException($"Frame {frame} is outside the header's {header.FrameCount} frames.", nameof(packets));
        }

        int tiles = header.TileCount;
        long capacity = (long)header.LayerCount * tiles;
        if (packets.Count > capacity)
        {
            throw new ArgumentException($"{packets.Count} packets are more than the {capacity} of one frame of {header.LayerCount} layers of {tiles} tiles.", nameof(packets));
        }

        bool experts = false;
        long size = MaxHeaderBytes;
        for (int i = 0; i < packets.Count; i++)
        {
            LatentPacket p = packets[i];
            int layer = i / tiles, tile = i % tiles;
            if (p.FrameIndex != frame || p.Layer != layer || p.TileIndex != tile)
            {
                throw new ArgumentException(
                    $"Packet {i} is (frame {p.FrameIndex}, layer {p.Layer}, tile {p.TileIndex}); the compact layout holds one frame's packets "
                    + $"in prefix order without gaps, so it must be (frame {frame}, layer {layer}, tile {tile}).", nameof(packets));
            }

            if (p.ModelId != header.ModelId)
            {
                throw new ArgumentException($"Packet {i} has model id {p.ModelId:x16}, the header {header.ModelId:x16}.", nameof(packets));
            }

            if (p.Payload.IsEmpty)
            {
                throw new ArgumentException($"Packet {i} has an empty payload.", nameof(packets));
            }

            experts |= p.ExpertId != 0;
            size += (2 * Varint.MaxLength) + p.Payload.Length + 4;
        }

        var output = new ArrayBufferWriter<byte>((int)Math.Min(size, Array.MaxLength));
        uint headerCrc = WriteHeader(output, header, frame, experts);
        Span<byte> seed = stackalloc byte[8];
        for (int i = 0; i < packets.Count; i++)
        {
            LatentPacket p = packets[i];
            int start = output.WrittenCount;
            Varint.Write(output, (uint)p.Payload.Length);
            if (experts)
            {
                Varint.Write(output, p.ExpertId);
            }

            output.Write(p.Payload.Span);
            uint crc = PacketCrc(seed, headerCrc, i, output.WrittenSpan[start..]);
            BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), crc);
            output.Advance(4);
        }

        destination.Write(output.WrittenSpan);
        destination.Flush();
        return output.WrittenCount;
    }

    /// <summary>Reads a compact container (its magic already seen); damage after the header ends the read, with every intact packet before it.</summary>
    /// <exception cref="EdgeCodecFormatException">The header is missing, damaged, invalid or of an unsupported version.</exception>
    public static ContainerReadResult Read(ReadOnlyMemory<byte> memory, ContainerReadOptions options)
    {
        ReadOnlySpan<byte> file = memory.Span;
        var (header, frame, experts, headerCrc, pos) = ReadHeader(file);
        var packets = new List<LatentPacket>();
        var entries = new List<ContainerIndexEntry>();
        int tiles = header.TileCount;
        long expected = (long)header.LayerCount * tiles;
        Span<byte> seed = stackalloc byte[8];

        ContainerReadResult Stop(ContainerReadStatus status, long badOffset, string message) =>
            new(header, packets, entries, status, pos, badOffset, usedIndex: false, message, ContainerLayout.Compact);

        while (true)
        {
            int i = packets.Count;
            if (pos == file.Length)
            {
                return i == expected
                    ? new(header, packets, entries, ContainerReadStatus.Complete, pos, null, usedIndex: false, null, ContainerLayout.Compact)
                    : Stop(ContainerReadStatus.Truncated, pos, $"The file ends after {i} of its {expected} packets (an interrupted write or download).");
            }

            if (i == expected)
            {
                return Stop(ContainerReadStatus.Malformed, pos, $"{file.Length - pos} bytes follow the last of the {expected} packets.");
            }

            if (i >= options.MaxPackets)
            {
                return Stop(ContainerReadStatus.LimitExceeded, pos, $"More than {options.MaxPackets} packets.");
            }

            long at = pos;
            FormatError error = Varint.TryRead(file[(int)at..], out int length, out int used);
            if (error != FormatError.None)
            {
                return Stop(Status(error), at, error == FormatError.Truncated ? "The last packet is cut short (an interrupted write)." : "A packet length is not a minimal LEB128 integer of at most 31 bits.");
            }

            if (length == 0)
            {
                return Stop(ContainerReadStatus.Malformed, at, "A packet length is zero.");
            }

            if (length > options.Packet.MaxPayloadSize)
            {
                return Stop(ContainerReadStatus.LimitExceeded, at, $"Packet payload of {length} bytes exceeds the limit of {options.Packet.MaxPayloadSize}.");
            }

            at += used;
            int expert = 0;
            if (experts)
            {
                error = Varint.TryRead(file[(int)at..], out expert, out used);
                if (error != FormatError.None || expert > ushort.MaxValue)
                {
                    return Stop(error == FormatError.None ? ContainerReadStatus.Malformed : Status(error), at, "A packet's expert id is not a minimal LEB128 integer of at most 16 bits.");
                }

                at += used;
            }

            if (file.Length - at < (long)length + 4)
            {
                return Stop(ContainerReadStatus.Truncated, at, "The last packet is cut short (an interrupted write).");
            }

            long crcAt = at + length;
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(file[(int)crcAt..]);
            if (crc != PacketCrc(seed, headerCrc, i, file[(int)pos..(int)crcAt]))
            {
                return Stop(ContainerReadStatus.CrcMismatch, crcAt, $"Packet {i} failed its CRC32: it was damaged (or does not belong at this place of this file).");
            }

            byte layer = (byte)(i / tiles);
            ushort tile = (ushort)(i % tiles);
            packets.Add(new LatentPacket
            {
                Sequence = (ulong)i,
                FrameIndex = frame,
                TileIndex = tile,
                Layer = layer,
                ExpertId = (ushort)expert,
                ModelId = header.ModelId,
                Payload = memory.Slice((int)at, length).ToArray(),
                Crc32 = crc,
            });
            long end = crcAt + 4;
            entries.Add(new ContainerIndexEntry(frame, tile, layer, pos, (int)(end - pos)));
            pos = end;
        }
    }

    private static ContainerReadStatus Status(FormatError error) => error switch
    {
        FormatError.Truncated => ContainerReadStatus.Truncated,
        FormatError.LimitExceeded => ContainerReadStatus.LimitExceeded,
        _ => ContainerReadStatus.Malformed,
    };

    private static uint WriteHeader(ArrayBufferWriter<byte> output, ContainerHeader header, uint frame, bool experts)
    {
        Span<byte> h = output.GetSpan(MaxHeaderBytes);
        Magic.CopyTo(h);
        h[4] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(h[5..], header.ModelId);
        int n = FixedHeaderBytes;
        foreach (uint value in (ReadOnlySpan<uint>)[(uint)header.Width, (uint)header.Height, (uint)header.TileWidth, (uint)header.TileHeight, header.FrameCount, frame])
        {
            n += Varint.Write(h[n..], value);
        }

        h[n++] = header.LayerCount;
        h[n++] = header.QualityLevel;
        h[n++] = (byte)((experts ? ExpertsFlag : 0) | (header.PreviewLayer ? PreviewLayerFlag : 0));
        uint crc = Crc32.HashToUInt32(h[..n]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[n..], crc);
        output.Advance(n + 4);
        return crc;
    }

    private static (ContainerHeader Header, uint Frame, bool Experts, uint Crc, long Length) ReadHeader(ReadOnlySpan<byte> file)
    {
        if (file.Length < FixedHeaderBytes)
        {
            throw new EdgeCodecFormatException($"Compact container is {file.Length} bytes, shorter than its header.", FormatError.Truncated, file.Length);
        }

        if (file[4] != Version)
        {
            throw new EdgeCodecFormatException($"Compact container version {file[4]} is not supported (expected {Version}).", FormatError.UnsupportedVersion, 4);
        }

        Span<uint> values = stackalloc uint[6];
        int n = FixedHeaderBytes;
        for (int v = 0; v < values.Length; v++)
        {
            FormatError error = Varint.TryRead(file[n..], out int value, out int used);
            if (error != FormatError.None)
            {
                throw error == FormatError.Truncated
                    ? new EdgeCodecFormatException("Compact container ends inside its header.", FormatError.Truncated, file.Length)
                    : new EdgeCodecFormatException("Compact container header holds a field that is not a minimal LEB128 integer of at most 31 bits.", FormatError.Malformed, n);
            }

            values[v] = (uint)value;
            n += used;
        }

        if (file.Length < n + 3 + 4)
        {
            throw new EdgeCodecFormatException("Compact container ends inside its header.", FormatError.Truncated, file.Length);
        }

        byte layers = file[n], quality = file[n + 1], flags = file[n + 2];
        n += 3;
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(file[n..]);
        if (crc != Crc32.HashToUInt32(file[..n]))
        {
            throw new EdgeCodecFormatException("Compact container header CRC32 mismatch.", FormatError.CrcMismatch, n);
        }

        if ((flags & ~(ExpertsFlag | PreviewLayerFlag)) != 0)
        {
            throw new EdgeCodecFormatException($"Compact container header flags 0x{flags:x2} include ones this version does not know.", FormatError.UnsupportedVersion, n - 1);
        }

        ContainerHeader header;
        try
        {
            // The same ranges and derived tile grid as an indexed header.
            header = ContainerHeader.Create(BinaryPrimitives.ReadUInt64LittleEndian(file[5..]), (int)values[0], (int)values[1],
                (int)values[2], (int)values[3], layers, values[4], quality, (flags & PreviewLayerFlag) != 0);
        }
        catch (ArgumentException e)
        {
            throw new EdgeCodecFormatException($"Compact container header is invalid: {e.Message}", FormatError.Malformed, FixedHeaderBytes);
        }

        if (header.FrameCount != 0 && values[5] >= header.FrameCount)
        {
            throw new EdgeCodecFormatException($"Compact container header is invalid: frame {values[5]} is outside its {header.FrameCount} frames.", FormatError.Malformed, FixedHeaderBytes);
        }

        return (header, values[5], (flags & ExpertsFlag) != 0, crc, n + 4);
    }

    /// <summary>CRC-32 of a packet's bytes, seeded with the header's CRC and the packet's position.</summary>
    private static uint PacketCrc(Span<byte> seed, uint headerCrc, int index, ReadOnlySpan<byte> packet)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(seed, headerCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(seed[4..], (uint)index);
        var crc = new Crc32();
        crc.Append(seed);
        crc.Append(packet);
        return crc.GetCurrentHashAsUInt32();
    }
}
