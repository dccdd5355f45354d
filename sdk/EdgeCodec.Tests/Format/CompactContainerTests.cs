using System.Buffers.Binary;
using System.IO.Hashing;
using EdgeCodec.Format;

namespace EdgeCodec.Tests.Format;

public sealed class CompactContainerTests
{
    private static readonly ContainerHeader Header = FormatSamples.Header(frames: 1);

    /// <summary>Frame 0 of the format samples: 2 layers x 2 tiles, experts 0 and 1.</summary>
    private static readonly LatentPacket[] Packets = FormatSamples.ContainerPackets().Where(p => p.FrameIndex == 0).ToArray();

    [Fact]
    public void A_compact_container_round_trips_one_frame_at_the_size_the_spec_gives()
    {
        byte[] file = Write(Header, Packets);
        ContainerReadResult result = ContainerReader.Read(new MemoryStream(file));
        Assert.True(result.IsComplete);
        Assert.Equal(ContainerLayout.Compact, result.Layout);
        Assert.False(result.UsedIndex);
        Assert.Equal(file.Length, result.BytesConsumed);
        AssertSameHeader(Header, result.Header);
        Assert.Equal(Packets.Length, result.PacketsRecovered);
        for (int i = 0; i < Packets.Length; i++)
        {
            FormatSamples.AssertSame(Packets[i], result.Packets[i], transport: false);
            Assert.Equal(0u, result.Packets[i].StreamId);
            Assert.Equal((ulong)i, result.Packets[i].Sequence);
            Assert.Equal(result.Entries[i].Offset + result.Entries[i].Length, i + 1 < Packets.Length ? result.Entries[i + 1].Offset : file.Length);
        }

        // docs/format.md: magic, version, model id, six varints (100, 60, 64, 64, 1, 0: 1 byte each), layers, quality,
        // flags, CRC; then per packet a 1-byte length, a 1-byte expert, the payload and a CRC.
        int header = 4 + 1 + 8 + 6 + 3 + 4;
        Assert.Equal(header + Packets.Sum(p => 1 + 1 + p.Payload.Length + 4), file.Length);
        Assert.True(file.Length < ContainerWriter.Write(Header, Packets, Stream.Null, ContainerLayout.Indexed) - 150);
    }

    [Fact]
    public void Layouts_convert_into_each_other_byte_for_byte()
    {
        // What the encoder writes for a still: stream 0, sequence numbers from 0.
        LatentPacket[] still = Packets.Select((p, i) => Copy(p, sequence: (ulong)i)).ToArray();
        byte[] indexed = Bytes(s => ContainerWriter.Write(Header, still, s, ContainerLayout.Indexed));
        byte[] compact = Write(Header, still);
        ContainerReadResult fromIndexed = ContainerReader.Read(indexed), fromCompact = ContainerReader.Read(compact);
        Assert.Equal(compact, Bytes(s => ContainerWriter.Write(fromIndexed.Header, fromIndexed.Packets, s, ContainerLayout.Compact)));
        Assert.Equal(indexed, Bytes(s => ContainerWriter.Write(fromCompact.Header, fromCompact.Packets, s, ContainerLayout.Indexed)));

        // A layer prefix keeps the source's layout and equals the file written from the prefix directly.
        using var prefix = new MemoryStream();
        Assert.Equal(Packets.Length / 2, ContainerWriter.WriteLayerPrefix(fromCompact, 1, prefix));
        byte[] trimmed = prefix.ToArray();
        Assert.Equal(Write(Header.WithLayerCount(1), still[..2]), trimmed);
        Assert.True(ContainerReader.Read(trimmed).IsComplete);
    }

    [Fact]
    public void Every_cut_yields_exactly_the_fully_written_packets()
    {
        byte[] file = Write(Header, Packets);
        ContainerReadResult full = ContainerReader.Read(file);
        int headerLength = (int)full.Entries[0].Offset;
        for (int cut = 0; cut < file.Length; cut++)
        {
            if (cut < headerLength)
            {
                Assert.Equal(FormatError.Truncated, Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(file.AsMemory(0, cut))).Error);
                continue;
            }

            ContainerReadResult result = ContainerReader.Read(file.AsMemory(0, cut));
            int whole = full.Entries.Count(e => e.Offset + e.Length <= cut);
            Assert.Equal(ContainerReadStatus.Truncated, result.Status);
            Assert.Equal(whole, result.PacketsRecovered);
            Assert.Equal(whole == 0 ? headerLength : full.Entries[whole - 1].Offset + full.Entries[whole - 1].Length, result.BytesConsumed);
        }
    }

    [Fact]
    public void Every_bit_flip_is_detected_and_the_recovered_prefix_is_correct()
    {
        byte[] file = Write(Header, Packets);
        int headerLength = (int)ContainerReader.Read(file).Entries[0].Offset;
        for (int bit = 0; bit < file.Length * 8; bit++)
        {
            byte[] damaged = (byte[])file.Clone();
            damaged[bit >> 3] ^= (byte)(1 << (bit & 7));
            ContainerReadResult result;
            try
            {
                result = ContainerReader.Read(damaged);
            }
            catch (EdgeCodecFormatException)
            {
                Assert.True(bit >> 3 < headerLength, $"bit {bit}: only header damage may throw");
                continue;
            }

            Assert.False(result.IsComplete, $"bit {bit} went unnoticed");
            for (int i = 0; i < result.PacketsRecovered; i++)
            {
                FormatSamples.AssertSame(Packets[i], result.Packets[i], transport: false);
            }
        }
    }

    [Fact]
    public void A_packet_moved_within_a_file_or_spliced_from_another_fails_its_crc()
    {
        // Two tiles with payloads of the same length and expert, so swapping their bytes keeps every length valid.
        LatentPacket[] twins = [Twin(0, 0, 1), Twin(1, 0, 2), Twin(0, 1, 3), Twin(1, 1, 4)];
        byte[] file = Write(Header, twins);
        var entries = ContainerReader.Read(file).Entries;
        byte[] swapped = (byte[])file.Clone();
        file.AsSpan((int)entries[0].Offset, entries[0].Length).CopyTo(swapped.AsSpan((int)entries[1].Offset));
        file.AsSpan((int)entries[1].Offset, entries[1].Length).CopyTo(swapped.AsSpan((int)entries[0].Offset));
        ContainerReadResult result = ContainerReader.Read(swapped);
        Assert.Equal(ContainerReadStatus.CrcMismatch, result.Status);
        Assert.Equal(0, result.PacketsRecovered);

        // The same packets under a header that differs only in its quality level: none of them verifies there.
        byte[] other = Write(ContainerHeader.Create(Header.ModelId, Header.Width, Header.Height, 64, 64, 2, 1, qualityLevel: 4), twins);
        byte[] spliced = (byte[])file.Clone();
        other.AsSpan((int)entries[0].Offset, entries[0].Length).CopyTo(spliced.AsSpan((int)entries[0].Offset));
        Assert.Equal(ContainerReadStatus.Complete, ContainerReader.Read(other).Status);
        Assert.Equal(ContainerReadStatus.CrcMismatch, ContainerReader.Read(spliced).Status);
    }

    [Fact]
    public void The_writer_takes_only_a_gapless_prefix_of_one_frame()
    {
        Assert.Equal(2, ContainerReader.Read(Write(Header, Packets[..2])).PacketsRecovered); // the base layer alone: a cut file
        Assert.Equal(ContainerReadStatus.Truncated, ContainerReader.Read(Write(Header, Packets[..3])).Status);
        Assert.True(ContainerReader.Read(Write(Header, [])).Status == ContainerReadStatus.Truncated);

        var twoFrames = FormatSamples.ContainerPackets().ToArray();
        Reject(FormatSamples.Header(frames: 2), twoFrames, "frame");
        Reject(Header, [Packets[0], Packets[2]], "without gaps");               // tile 1 of layer 0 missing
        Reject(Header, [Packets[1], Packets[0]], "prefix order");
        Reject(Header, [.. Packets, Packets[0]], "more than");
        Reject(Header, [Packets[0], Copy(Packets[1], modelId: 5)], "model id");
        Reject(Header, [Packets[0], Copy(Packets[1], payload: ReadOnlyMemory<byte>.Empty)], "empty payload");
        Reject(Header, [Copy(Packets[0], frame: 1), Copy(Packets[1], frame: 1)], "outside");
    }

    [Fact]
    public void A_compact_container_cannot_be_appended_to()
    {
        using var stream = new MemoryStream();
        stream.Write(Write(Header, Packets[..2]));
        var ex = Assert.Throws<ArgumentException>(() => ContainerWriter.OpenForAppend(stream, leaveOpen: true));
        Assert.Contains("compact", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Write(Header, Packets[..2]), stream.ToArray()); // nothing lost
    }

    [Fact]
    public void Malformed_headers_and_packets_get_typed_errors()
    {
        // Hand-built from docs/format.md, as another implementation would write them.
        Assert.Equal(Write(Header, Packets), Spec(Header, Packets));
        Assert.Equal(FormatError.UnsupportedVersion, HeaderError(Spec(Header, Packets, version: 2)));
        Assert.Equal(FormatError.UnsupportedVersion, HeaderError(Spec(Header, Packets, flags: 5))); // bit 2: unknown
        Assert.Equal(FormatError.Malformed, HeaderError(Spec(Header, Packets, fields: [100, 60, 64, 64, 1, 1])));  // frame 1 of 1
        Assert.Equal(FormatError.Malformed, HeaderError(Spec(Header, Packets, fields: [0, 60, 64, 64, 1, 0])));
        Assert.Equal(FormatError.Malformed, HeaderError(Spec(Header, Packets, fields: [1 << 21, 60, 64, 64, 1, 0])));
        Assert.Equal(FormatError.Malformed, HeaderError(Spec(Header, Packets, layers: 0)));
        byte[] overlong = Spec(Header, Packets);
        overlong[13] |= 0x80;  // width 100 as a 2-byte varint would need a zero high group: not minimal
        overlong.AsSpan(14).Clear();
        Assert.Equal(FormatError.Malformed, HeaderError(overlong));
        Assert.Equal(FormatError.UnsupportedVersion, HeaderError([.. "ECXQ"u8, .. new byte[60]]));

        byte[] file = Write(Header, Packets);
        ContainerReadResult trailing = ContainerReader.Read((byte[])[.. file, 0]);
        Assert.Equal(ContainerReadStatus.Malformed, trailing.Status);
        Assert.Equal(Packets.Length, trailing.PacketsRecovered);
        Assert.Equal(file.Length, trailing.FirstBadOffset);

        Assert.Equal(ContainerReadStatus.Malformed, ContainerReader.Read(Spec(Header, [Copy(Packets[0], payload: new byte[1])], zeroLength: true)).Status);
        var limits = new ContainerReadOptions { MaxPackets = 3, Packet = new PacketReaderOptions { MaxPayloadSize = 8 } };
        ContainerReadResult limited = ContainerReader.Read(file, limits);
        Assert.Equal(ContainerReadStatus.LimitExceeded, limited.Status);
        Assert.Equal(Packets.TakeWhile(p => p.Payload.Length <= 8).Count(), limited.PacketsRecovered);
        Assert.Equal(ContainerReadStatus.LimitExceeded, ContainerReader.Read(file, new ContainerReadOptions { MaxPackets = 3 }).Status);
        Assert.Equal(3, ContainerReader.Read(file, new ContainerReadOptions { MaxPackets = 3 }).PacketsRecovered);
    }

    [Fact]
    public void Random_damage_never_escapes_as_anything_but_a_format_error()
    {
        byte[] file = Write(Header, Packets);
        var rng = new Random(20261204);
        for (int trial = 0; trial < 20_000; trial++)
        {
            byte[] mutated = (byte[])file.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                mutated[rng.Next(4, mutated.Length)] = (byte)rng.Next(256);
            }

            try
            {
                ContainerReadResult r = ContainerReader.Read(mutated.AsMemory(0, rng.Next(4, mutated.Length + 1)));
                Assert.True(r.PacketsRecovered <= Packets.Length);
            }
            catch (EdgeCodecFormatException)
            {
            }
        }
    }

    private static FormatError HeaderError(byte[] file) => Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(file)).Error;

    private static void Reject(ContainerHeader header, LatentPacket[] packets, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => ContainerWriter.Write(header, packets, Stream.Null, ContainerLayout.Compact));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    private static byte[] Write(ContainerHeader header, LatentPacket[] packets) => Bytes(s => ContainerWriter.Write(header, packets, s, ContainerLayout.Compact));

    private static byte[] Bytes(Func<Stream, long> write)
    {
        using var ms = new MemoryStream();
        long n = write(ms);
        Assert.Equal(ms.Length, n);
        return ms.ToArray();
    }

    /// <summary>The compact layout written straight from docs/format.md, with knobs to break it.</summary>
    private static byte[] Spec(ContainerHeader h, LatentPacket[] packets, byte version = 1, byte flags = 1, uint[]? fields = null, int? layers = null, bool zeroLength = false)
    {
        var bytes = new List<byte>("ECXC"u8.ToArray()) { version };
        bytes.AddRange(BitConverter.GetBytes(h.ModelId));
        foreach (uint f in fields ?? [(uint)h.Width, (uint)h.Height, (uint)h.TileWidth, (uint)h.TileHeight, h.FrameCount, 0])
        {
            Leb128(bytes, f);
        }

        bytes.AddRange([(byte)(layers ?? h.LayerCount), h.QualityLevel, flags]);
        uint headerCrc = Crc32.HashToUInt32(bytes.ToArray());
        bytes.AddRange(BitConverter.GetBytes(headerCrc));
        for (int i = 0; i < packets.Length; i++)
        {
            var packet = new List<byte>();
            Leb128(packet, zeroLength ? 0 : (uint)packets[i].Payload.Length);
            if ((flags & 1) != 0)
            {
                Leb128(packet, packets[i].ExpertId);
            }

            packet.AddRange(packets[i].Payload.ToArray());
            byte[] seed = [.. BitConverter.GetBytes(headerCrc), .. BitConverter.GetBytes((uint)i)];
            packet.AddRange(BitConverter.GetBytes(Crc32.HashToUInt32([.. seed, .. packet])));
            bytes.AddRange(packet);
        }

        return [.. bytes];
    }

    private static void Leb128(List<byte> bytes, uint value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
    }

    private static LatentPacket Twin(ushort tile, byte layer, int seed) => new()
    {
        TileIndex = tile,
        Layer = layer,
        ExpertId = 1,
        ModelId = FormatSamples.ModelId,
        Payload = FormatSamples.Bytes(12, seed),
    };

    /// <summary>A copy of <paramref name="p"/> with stream id 0 (what the compact layout reads back) and the given changes.</summary>
    private static LatentPacket Copy(LatentPacket p, ulong? modelId = null, ReadOnlyMemory<byte>? payload = null, uint? frame = null, ulong? sequence = null) => new()
    {
        Sequence = sequence ?? p.Sequence,
        FrameIndex = frame ?? p.FrameIndex,
        TileIndex = p.TileIndex,
        Layer = p.Layer,
        ExpertId = p.ExpertId,
        ModelId = modelId ?? p.ModelId,
        Payload = payload ?? p.Payload,
    };

    private static void AssertSameHeader(ContainerHeader expected, ContainerHeader actual)
    {
        Assert.Equal(
            (expected.ModelId, expected.Width, expected.Height, expected.TileWidth, expected.TileHeight, expected.TileColumns, expected.TileRows, expected.FrameCount, expected.LayerCount, expected.QualityLevel),
            (actual.ModelId, actual.Width, actual.Height, actual.TileWidth, actual.TileHeight, actual.TileColumns, actual.TileRows, actual.FrameCount, actual.LayerCount, actual.QualityLevel));
    }
}
