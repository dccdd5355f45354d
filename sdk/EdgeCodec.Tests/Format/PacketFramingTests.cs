using System.Buffers;
using EdgeCodec.Format;

namespace EdgeCodec.Tests.Format;

public sealed class PacketFramingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Field_extremes_round_trip(bool max)
    {
        LatentPacket packet = FormatSamples.Extremes(max);
        var buffer = new ReadOnlySequence<byte>(PacketFraming.ToArray(packet));
        Assert.True(PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out LatentPacket? read));
        Assert.True(buffer.IsEmpty);
        FormatSamples.AssertSame(packet, read);
    }

    [Fact]
    public void One_byte_segments_parse_a_stream_of_packets()
    {
        var output = new ArrayBufferWriter<byte>();
        LatentPacket[] packets = FormatSamples.ContainerPackets().ToArray();
        foreach (LatentPacket p in packets)
        {
            PacketFraming.Write(output, p);
        }

        ReadOnlySequence<byte> buffer = FormatSamples.Segmented(output.WrittenSpan.ToArray(), 1);
        foreach (LatentPacket expected in packets)
        {
            Assert.True(PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out LatentPacket? read));
            FormatSamples.AssertSame(expected, read);
        }

        Assert.True(buffer.IsEmpty);
        Assert.False(PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out _));
    }

    [Fact]
    public void Every_truncation_needs_more_data_and_leaves_the_buffer_unchanged()
    {
        byte[] frame = PacketFraming.ToArray(FormatSamples.Packet(3, 4, 1, 40));
        for (int cut = 0; cut < frame.Length; cut++)
        {
            ReadOnlySequence<byte> buffer = FormatSamples.Segmented(frame[..cut], 3);
            Assert.False(PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out LatentPacket? packet));
            Assert.Null(packet);
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void Every_bit_flip_is_rejected_with_a_format_exception()
    {
        byte[] frame = PacketFraming.ToArray(FormatSamples.Packet(1, 2, 0, 30));
        for (int bit = 0; bit < frame.Length * 8; bit++)
        {
            byte[] damaged = (byte[])frame.Clone();
            damaged[bit >> 3] ^= (byte)(1 << (bit & 7));
            var buffer = new ReadOnlySequence<byte>(damaged);
            try
            {
                // A flip in the length prefix may just ask for more data; everything else must throw.
                Assert.False(PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out _), $"bit {bit} went unnoticed");
            }
            catch (EdgeCodecFormatException)
            {
            }
        }
    }

    [Fact]
    public void Oversized_length_prefix_is_rejected_before_allocation()
    {
        // 5-byte LEB128 claiming 4 GiB, with no body behind it.
        var huge = new ReadOnlySequence<byte>(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x10 });
        Assert.Equal(FormatError.LimitExceeded, Assert.Throws<EdgeCodecFormatException>(() => PacketFraming.TryRead(ref huge, PacketReaderOptions.Default, out _)).Error);

        // Just over the configured frame limit.
        var options = new PacketReaderOptions { MaxFrameSize = 1000 };
        var over = new ReadOnlySequence<byte>(new byte[] { 0xE9, 0x07 });
        Assert.Equal(FormatError.LimitExceeded, Assert.Throws<EdgeCodecFormatException>(() => PacketFraming.TryRead(ref over, options, out _)).Error);

        // Payload limit.
        var small = new PacketReaderOptions { MaxPayloadSize = 10 };
        var big = new ReadOnlySequence<byte>(PacketFraming.ToArray(FormatSamples.Packet(0, 0, 0, 11)));
        Assert.Equal(FormatError.LimitExceeded, Assert.Throws<EdgeCodecFormatException>(() => PacketFraming.TryRead(ref big, small, out _)).Error);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 })]                         // zero length
    [InlineData(new byte[] { 0x80, 0x00 })]                   // overlong varint
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80 })] // 6-byte varint
    [InlineData(new byte[] { 0x01, 0xC0 })]                   // nil instead of an array
    [InlineData(new byte[] { 0x02, 0x91, 0x01 })]             // array of 1
    [InlineData(new byte[] { 0x14, 0x9A, 0x01, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x2A, 0xC6, 0xC4, 0x04, 0x00, 0x25, 0x4A, 0x6F, 0xCE, 0x07, 0x89, 0x0B })] // fuzz finding: bin32 length past the frame
    public void Malformed_frames_throw_format_exceptions(byte[] frame)
    {
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.Throws<EdgeCodecFormatException>(() => PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out _));
    }

    [Fact]
    public void Wrong_version_is_typed()
    {
        byte[] frame = PacketFraming.ToArray(FormatSamples.Packet(0, 0, 0, 1));
        frame[2] = 2; // first array element: version 1 -> 2 (positive fixint)
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.Equal(FormatError.UnsupportedVersion, Assert.Throws<EdgeCodecFormatException>(() => PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out _)).Error);
        Assert.Throws<ArgumentException>(() => PacketFraming.ToArray(new LatentPacket { Version = 2 }));
    }

    [Fact]
    public void Random_bytes_only_ever_throw_format_exceptions()
    {
        var rng = new Random(99);
        for (int i = 0; i < 20_000; i++)
        {
            var data = new byte[rng.Next(0, 80)];
            rng.NextBytes(data);
            if (data.Length > 1 && rng.Next(2) == 0)
            {
                data[0] = (byte)(data.Length - 1);
                data[1] = 0x9A; // array of 10
            }

            ReadOnlySequence<byte> buffer = FormatSamples.Segmented(data, rng.Next(1, 8));
            try
            {
                while (PacketFraming.TryRead(ref buffer, PacketReaderOptions.Default, out _))
                {
                }
            }
            catch (EdgeCodecFormatException)
            {
            }
        }
    }
}
