using EdgeCodec.Format;

namespace EdgeCodec.Tests.Format;

public sealed class ContainerTests
{
    private static readonly LatentPacket[] Packets = FormatSamples.ContainerPackets().ToArray();

    [Fact]
    public void Complete_container_round_trips_through_the_index()
    {
        byte[] file = FormatSamples.Container();
        ContainerReadResult result = ContainerReader.Read(new MemoryStream(file));
        Assert.True(result.IsComplete);
        Assert.True(result.UsedIndex);
        Assert.Null(result.FirstBadOffset);
        Assert.Equal(Packets.Length, result.PacketsRecovered);
        for (int i = 0; i < Packets.Length; i++)
        {
            FormatSamples.AssertSame(Packets[i], result.Packets[i]);
        }

        Assert.Equal(3, result.Header.QualityLevel);
        Assert.Equal(2, result.Header.TileColumns);
        Assert.Equal(1, result.Header.TileRows);
    }

    [Fact]
    public void Every_cut_yields_exactly_the_fully_written_packets()
    {
        byte[] file = FormatSamples.Container();
        ContainerReadResult full = ContainerReader.Read(file);
        for (int cut = 0; cut < file.Length; cut++)
        {
            if (cut < ContainerHeader.Size)
            {
                Assert.Equal(FormatError.Truncated, Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(file.AsMemory(0, cut))).Error);
                continue;
            }

            ContainerReadResult result = ContainerReader.Read(file.AsMemory(0, cut));
            int whole = full.Entries.Count(e => e.Offset + e.Length <= cut);
            Assert.Equal(whole, result.PacketsRecovered);
            Assert.False(result.IsComplete);
            Assert.True(result.Status is ContainerReadStatus.Truncated or ContainerReadStatus.IndexCorrupt, $"cut {cut}: {result.Status}");
            Assert.Equal(whole == 0 ? ContainerHeader.Size : full.Entries[whole - 1].Offset + full.Entries[whole - 1].Length, result.BytesConsumed);
        }
    }

    [Fact]
    public void Every_bit_flip_is_detected_or_recovered_around()
    {
        byte[] file = FormatSamples.Container();
        for (int bit = 0; bit < file.Length * 8; bit++)
        {
            byte[] damaged = (byte[])file.Clone();
            damaged[bit >> 3] ^= (byte)(1 << (bit & 7));
            int at = bit >> 3;
            ContainerReadResult result;
            try
            {
                result = ContainerReader.Read(damaged);
            }
            catch (EdgeCodecFormatException)
            {
                Assert.True(at < ContainerHeader.Size, $"bit {bit}: only header damage may throw");
                continue;
            }

            // Every byte of the file is under some CRC (header, packet, index or footer), so no flip goes unnoticed.
            Assert.False(result.IsComplete, $"bit {bit} at byte {at} went unnoticed");

            // Whatever was recovered is a correct prefix.
            for (int i = 0; i < result.PacketsRecovered; i++)
            {
                FormatSamples.AssertSame(Packets[i], result.Packets[i]);
            }
        }
    }

    [Fact]
    public void Open_for_append_after_any_cut_continues_correctly()
    {
        byte[] file = FormatSamples.Container();
        ContainerReadResult full = ContainerReader.Read(file);
        for (int cut = ContainerHeader.Size; cut <= file.Length; cut += 7)
        {
            var stream = new MemoryStream();
            stream.Write(file, 0, cut);
            int kept;
            using (ContainerWriter writer = ContainerWriter.OpenForAppend(stream, leaveOpen: true))
            {
                kept = writer.PacketCount;
                foreach (LatentPacket p in Packets.Skip(kept))
                {
                    writer.Append(p);
                }

                writer.Complete();
            }

            Assert.Equal(file, stream.ToArray());
            Assert.Equal(full.Entries.Count(e => e.Offset + e.Length <= cut), kept);
        }
    }

    [Fact]
    public void A_write_that_fails_part_way_stops_the_writer_and_open_for_append_continues_after_the_last_whole_packet()
    {
        byte[] file = FormatSamples.Container();
        for (int room = ContainerHeader.Size + 1; room < file.Length; room += 13)
        {
            // A disk that fills after `room` bytes: the write that crosses it writes what fits, then fails.
            var disk = new FillingStream(room);
            int written = 0;
            ContainerWriter writer;
            try
            {
                writer = new ContainerWriter(disk, FormatSamples.Header(), leaveOpen: true);
            }
            catch (IOException)
            {
                continue; // the header did not fit: nothing to continue
            }

            using (writer)
            {
                var error = Record.Exception(() =>
                {
                    foreach (LatentPacket p in Packets)
                    {
                        writer.Append(p);
                        written++;
                    }

                    writer.Complete();
                });
                Assert.IsType<IOException>(error);
                Assert.Throws<InvalidOperationException>(() => writer.Append(Packets[Math.Min(written, Packets.Length - 1)]));
                Assert.Throws<InvalidOperationException>(() => writer.Complete());
            }

            disk.Room = int.MaxValue; // space freed
            using (ContainerWriter again = ContainerWriter.OpenForAppend(disk, leaveOpen: true))
            {
                Assert.Equal(written, again.PacketCount);
                foreach (LatentPacket p in Packets.Skip(written))
                {
                    again.Append(p);
                }

                again.Complete();
            }

            Assert.Equal(file, disk.ToArray());
        }
    }

    /// <summary>A memory "disk" with <see cref="Room"/> bytes left: a write past it writes what fits and throws.</summary>
    private sealed class FillingStream(int room) : MemoryStream
    {
        public int Room { get; set; } = room;

        public override void Write(byte[] buffer, int offset, int count)
        {
            int fits = (int)Math.Clamp(Room - Position, 0, count);
            base.Write(buffer, offset, fits); // MemoryStream's array overload writes directly
            if (fits < count)
            {
                throw new IOException("No space left on device");
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);
    }

    [Fact]
    public void Writer_enforces_prefix_order_and_header_consistency()
    {
        using var stream = new MemoryStream();
        using var writer = new ContainerWriter(stream, FormatSamples.Header(), leaveOpen: true);
        writer.Append(FormatSamples.Packet(0, 1, 0, 3));
        Assert.Throws<ArgumentException>(() => writer.Append(FormatSamples.Packet(0, 0, 0, 3))); // tile goes back
        Assert.Throws<ArgumentException>(() => writer.Append(FormatSamples.Packet(0, 1, 0, 3))); // duplicate
        Assert.Throws<ArgumentException>(() => writer.Append(FormatSamples.Packet(0, 2, 1, 3))); // tile outside grid
        Assert.Throws<ArgumentException>(() => writer.Append(FormatSamples.Packet(0, 0, 2, 3))); // layer outside
        Assert.Throws<ArgumentException>(() => writer.Append(FormatSamples.Packet(2, 0, 0, 3))); // frame outside
        LatentPacket otherModel = new() { ModelId = 1, FrameIndex = 1 };
        Assert.Throws<ArgumentException>(() => writer.Append(otherModel));
        writer.Append(FormatSamples.Packet(0, 0, 1, 3)); // layer 1 after all of layer 0 is fine
        writer.Complete();
        Assert.Throws<InvalidOperationException>(() => writer.Append(FormatSamples.Packet(1, 0, 0, 3)));
    }

    [Fact]
    public void Bad_headers_throw()
    {
        byte[] file = FormatSamples.Container();
        byte[] magic = (byte[])file.Clone();
        magic[0] = (byte)'X';
        Assert.Equal(FormatError.UnsupportedVersion, Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(magic)).Error);
        byte[] crc = (byte[])file.Clone();
        crc[20] ^= 1;
        Assert.Equal(FormatError.CrcMismatch, Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(crc)).Error);
        Assert.Equal(FormatError.LimitExceeded, Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(file, new ContainerReadOptions { MaxFileSize = 100 })).Error);
        Assert.Throws<ArgumentException>(() => ContainerHeader.Create(1, 0, 10, 8, 8, 1));
        Assert.Throws<ArgumentException>(() => new ContainerHeader { Width = 10, Height = 10, TileWidth = 4, TileHeight = 4, TileColumns = 2, TileRows = 3, LayerCount = 1 }.Validate());
    }

    [Fact]
    public void Damaged_index_falls_back_to_scanning()
    {
        byte[] file = FormatSamples.Container();
        file[^30] ^= 0x40; // inside the index entries
        ContainerReadResult result = ContainerReader.Read(file);
        Assert.Equal(ContainerReadStatus.IndexCorrupt, result.Status);
        Assert.False(result.UsedIndex);
        Assert.Equal(Packets.Length, result.PacketsRecovered);
    }

    [Fact]
    public void Packet_limit_is_enforced()
    {
        ContainerReadResult result = ContainerReader.Read(FormatSamples.Container(), new ContainerReadOptions { MaxPackets = 3 });
        Assert.Equal(ContainerReadStatus.LimitExceeded, result.Status);
        Assert.Equal(3, result.PacketsRecovered);
    }

    [Fact]
    public async Task Async_read_matches_sync_read_and_random_files_never_throw_other_exceptions()
    {
        byte[] file = FormatSamples.Container();
        ContainerReadResult result = await ContainerReader.ReadAsync(new MemoryStream(file));
        Assert.True(result.IsComplete);

        var rng = new Random(5);
        for (int i = 0; i < 5000; i++)
        {
            byte[] mutated = (byte[])file.Clone();
            int flips = rng.Next(1, 6);
            for (int k = 0; k < flips; k++)
            {
                mutated[rng.Next(ContainerHeader.Size, mutated.Length)] = (byte)rng.Next(256);
            }

            ContainerReadResult r = ContainerReader.Read(mutated.AsMemory(0, rng.Next(ContainerHeader.Size, mutated.Length + 1)));
            Assert.True(r.PacketsRecovered <= Packets.Length);
        }
    }
}
