using System.Buffers;
using EdgeCodec.Format;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Streaming.Tests;

public sealed class ProtocolTests
{
    private static byte[] Encode(params Message[] messages)
    {
        var output = new ArrayBufferWriter<byte>();
        var scratch = new ArrayBufferWriter<byte>();
        foreach (var m in messages)
        {
            if (m is LatentMessage latent)
            {
                MessageCodec.WriteLatent(output, MessageCodec.SerializePacketBody(latent.Packet));
            }
            else
            {
                MessageCodec.Write(output, m, scratch);
            }
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>A sequence of 1-byte segments, the worst fragmentation a pipe can hand out.</summary>
    private static ReadOnlySequence<byte> OneByteSegments(byte[] bytes) => Segments.Split(bytes, 1);

    private static List<Message> ReadAll(ReadOnlySequence<byte> buffer, int max = 1 << 20)
    {
        var list = new List<Message>();
        while (MessageCodec.TryRead(ref buffer, max, out var m))
        {
            list.Add(m!);
        }

        Assert.True(buffer.IsEmpty);
        return list;
    }

    private static readonly LatentPacket Packet = Synthetic.Frames(new Random(9), 1, 1, 1, 1, 300, 300)[0].Packets[0];

    private static Message[] AllKinds() =>
    [
        new HelloMessage { Role = 1, StreamId = 7, ModelId = ulong.MaxValue, Capabilities = Capabilities.SelectiveAck, AdapterIds = [1, 300, 65535], Sequence = 1UL << 40 },
        new HeaderMessage { StreamId = 7, FrameIndex = 3, Header = ContainerHeader.Create(5, 200, 100, 64, 64, 3, 0, 2) },
        new LatentMessage(Packet),
        new AckMessage { Cumulative = 10, Ranges = [(12, 14), (20, 1UL << 50)] },
        KeepAliveMessage.Instance,
        new ByeMessage { Reason = ByeMessage.Finished, Text = "done ✓" },
    ];

    [Fact]
    public void Every_message_kind_round_trips_through_one_byte_segments()
    {
        var messages = AllKinds();
        var read = ReadAll(OneByteSegments(Encode(messages)));
        Assert.Equal(messages.Length, read.Count);
        var hello = Assert.IsType<HelloMessage>(read[0]);
        Assert.Equal([1, 300, 65535], hello.AdapterIds);
        Assert.Equal(1UL << 40, hello.Sequence);
        Assert.Equal(ulong.MaxValue, hello.ModelId);
        var header = Assert.IsType<HeaderMessage>(read[1]);
        Assert.Equal((3u, 200, 100, (byte)3, (byte)2), (header.FrameIndex, header.Header.Width, header.Header.Height, header.Header.LayerCount, header.Header.QualityLevel));
        Synthetic.AssertSame(Packet, Assert.IsType<LatentMessage>(read[2]).Packet);
        Assert.Equal([(12UL, 14UL), (20UL, 1UL << 50)], Assert.IsType<AckMessage>(read[3]).Ranges);
        Assert.IsType<KeepAliveMessage>(read[4]);
        Assert.Equal("done ✓", Assert.IsType<ByeMessage>(read[5]).Text);
    }

    [Fact]
    public void A_header_with_a_preview_layer_carries_its_flag_and_unknown_flags_are_protocol_errors()
    {
        var plain = ContainerHeader.Create(5, 200, 100, 64, 64, 3, 0, 2);
        var flagged = ContainerHeader.Create(5, 200, 100, 64, 64, 3, 0, 2, previewLayer: true);
        byte[] withFlag = Encode([new HeaderMessage { StreamId = 7, FrameIndex = 3, Header = flagged }]);
        byte[] without = Encode([new HeaderMessage { StreamId = 7, FrameIndex = 3, Header = plain }]);
        Assert.True(Assert.IsType<HeaderMessage>(Assert.Single(ReadAll(OneByteSegments(withFlag)))).Header.PreviewLayer);
        Assert.False(Assert.IsType<HeaderMessage>(Assert.Single(ReadAll(OneByteSegments(without)))).Header.PreviewLayer);
        Assert.Equal(without.Length + 1, withFlag.Length); // one more element, only when the flag is set

        withFlag[^1] = 2; // the flags element (a positive fixint) with an unknown flag
        Assert.Throws<StreamProtocolException>(() => ReadAll(OneByteSegments(withFlag)));
    }

    [Fact]
    public void Every_truncation_asks_for_more_bytes_and_consumes_nothing()
    {
        byte[] bytes = Encode(AllKinds());
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var buffer = Segments.Split(bytes.AsMemory(0, cut).ToArray(), 3);
            int count = 0;
            while (MessageCodec.TryRead(ref buffer, 1 << 20, out _))
            {
                count++;
            }

            Assert.True(count < 6);
            Assert.True(buffer.Length < bytes.Length - cut + 1000);
        }
    }

    [Fact]
    public void Latent_message_overhead_is_four_bytes_over_the_packet_body()
    {
        byte[] body = MessageCodec.SerializePacketBody(Packet);
        byte[] message = Encode(new LatentMessage(Packet));
        Assert.Equal(body.Length + 4, message.Length); // 2-byte length, fixarray(2), type
        Assert.Equal(body, message[4..]);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 }, "LEB128")] // zero length
    [InlineData(new byte[] { 0x81, 0x00 }, "LEB128")] // non-minimal
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, "LEB128")] // over 2^31-1
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x04 }, "exceeds the limit")] // 1 GiB, nothing else sent
    [InlineData(new byte[] { 0x02, 0x91, 0x09 }, "Unknown message type")]
    [InlineData(new byte[] { 0x03, 0x92, 0x05, 0x00 }, "wrong element count")] // KEEPALIVE with an extra element
    [InlineData(new byte[] { 0x01, 0xC1 }, "Malformed")] // never-used MessagePack byte
    [InlineData(new byte[] { 0x05, 0x93, 0x04, 0x05, 0x92, 0x06 }, "ends early")] // ACK with a cut range list
    [InlineData(new byte[] { 0x06, 0x93, 0x04, 0x05, 0x92, 0x09, 0x08 }, "ACK ranges")] // range end before start
    [InlineData(new byte[] { 0x06, 0x93, 0x06, 0x00, 0xA5, 0x61, 0x62 }, "ends early")] // BYE text str(5) with 2 bytes (fuzz finding)
    [InlineData(new byte[] { 0x0A, 0x98, 0x09, 0x01, 0x00, 0x00, 0x00, 0x00, 0xC4, 0x09, 0x00 }, "ends early")] // LATENT_COMPACT bin(9) with 1 byte
    public void Hostile_messages_are_protocol_errors(byte[] bytes, string expected)
    {
        var buffer = OneByteSegments(bytes);
        var e = Assert.Throws<StreamProtocolException>(() => MessageCodec.TryRead(ref buffer, 1 << 20, out _));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Latent_with_a_flipped_payload_bit_fails_its_crc()
    {
        byte[] bytes = Encode(new LatentMessage(Packet));
        bytes[^20] ^= 0x10;
        var buffer = OneByteSegments(bytes);
        var e = Assert.Throws<StreamProtocolException>(() => MessageCodec.TryRead(ref buffer, 1 << 20, out _));
        Assert.IsType<EdgeCodecFormatException>(e.InnerException);
    }

    [Fact]
    public void Compact_latent_round_trips_rebuilds_the_packet_and_saves_the_session_fields()
    {
        byte[] body = MessageCodec.SerializePacketBody(Packet);
        var output = new ArrayBufferWriter<byte>();
        MessageCodec.WriteRaw(output, MessageCodec.SerializeCompactLatent(Packet, body));
        byte[] compact = output.WrittenSpan.ToArray();
        Assert.True(compact.Length <= Encode(new LatentMessage(Packet)).Length - 12, $"{compact.Length} bytes");

        var read = Assert.IsType<CompactLatentMessage>(Assert.Single(ReadAll(OneByteSegments(compact))));
        var rebuilt = read.ToPacket(Packet.StreamId, Packet.ModelId);
        Assert.NotNull(rebuilt);
        Synthetic.AssertSame(Packet, rebuilt!);
        Assert.Null(read.ToPacket(Packet.StreamId, Packet.ModelId ^ 1)); // the CRC covers the fields the session fixes

        compact[^10] ^= 0x10; // a payload bit
        var damaged = Assert.IsType<CompactLatentMessage>(Assert.Single(ReadAll(OneByteSegments(compact))));
        Assert.Null(damaged.ToPacket(Packet.StreamId, Packet.ModelId));
    }

    [Fact]
    public void Adapter_messages_round_trip_and_reject_out_of_bounds_chunks()
    {
        byte[] sha = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var chunk = new AdapterChunkMessage { ExpertId = 3, Sha256 = sha, Total = 5000, Offset = 4000, Data = new byte[1000] };
        var status = new AdapterStatusMessage { ExpertId = 3, Sha256 = sha, Have = 5000, State = AdapterStatusMessage.Installed };
        var read = ReadAll(OneByteSegments(Encode(chunk, status)));
        var c = Assert.IsType<AdapterChunkMessage>(read[0]);
        Assert.Equal((3, 5000u, 4000u, 1000), (c.ExpertId, c.Total, c.Offset, c.Data.Length));
        Assert.Equal(sha, c.Sha256);
        var st = Assert.IsType<AdapterStatusMessage>(read[1]);
        Assert.Equal((3, 5000u, AdapterStatusMessage.Installed), (st.ExpertId, st.Have, st.State));

        foreach (var bad in new Message[]
        {
            new AdapterChunkMessage { ExpertId = 3, Sha256 = sha, Total = 5000, Offset = 4500, Data = new byte[1000] }, // past the end
            new AdapterChunkMessage { ExpertId = 0, Sha256 = sha, Total = 5000, Offset = 0, Data = new byte[10] },      // expert 0 = base
            new AdapterChunkMessage { ExpertId = 3, Sha256 = sha, Total = 5 << 20, Offset = 0, Data = new byte[10] },   // over 4 MiB
            new AdapterChunkMessage { ExpertId = 3, Sha256 = sha[..31], Total = 50, Offset = 0, Data = new byte[10] },  // not a SHA-256
            new AdapterStatusMessage { ExpertId = 3, Sha256 = sha, Have = 0, State = 9 },
        })
        {
            var buffer = OneByteSegments(Encode(bad));
            Assert.Throws<StreamProtocolException>(() => MessageCodec.TryRead(ref buffer, 1 << 20, out _));
        }
    }

    [Fact]
    public void Sequence_set_tracks_cumulative_point_and_ranges()
    {
        var set = new SequenceSet();
        var rng = new Random(4);
        var order = Enumerable.Range(0, 500).Select(i => (ulong)i).OrderBy(_ => rng.Next()).ToList();
        var seen = new HashSet<ulong>();
        foreach (ulong s in order)
        {
            Assert.True(set.Add(s));
            Assert.False(set.Add(s));
            seen.Add(s);
            ulong expected = 0;
            while (seen.Contains(expected))
            {
                expected++;
            }

            Assert.Equal(expected, set.Cumulative);
            Assert.All(set.Ranges, r => Assert.True(r.Start > set.Cumulative && r.End > r.Start));
        }

        Assert.Equal(500UL, set.Cumulative);
        Assert.Empty(set.Ranges);
        set.Add(510);
        set.AdvanceTo(505);
        Assert.Equal(505UL, set.Cumulative);
        set.AdvanceTo(510);
        Assert.Equal(511UL, set.Cumulative);
    }

    [Fact]
    public void Default_rate_controller_defers_tails_on_a_slow_link_and_sends_everything_on_a_fast_one()
    {
        var slow = new DefaultRateController(TimeSpan.FromMilliseconds(100), initialRate: 1e6);
        for (int i = 0; i < 10; i++)
        {
            slow.OnAcknowledged(new RateSample(1000, 100_000, TimeSpan.FromMilliseconds(10)));
        }

        long[] layers = [5_000, 10_000, 20_000];
        Assert.Equal(1, slow.ChooseLayers(layers, 0)); // 10 kB budget
        Assert.Equal(1, slow.ChooseLayers(layers, 1 << 20)); // the base layer always goes
        Assert.False(slow.CanBackfill(20_000, 5_000));
        Assert.True(slow.CanBackfill(20_000, 0)); // an idle link always back-fills

        var fast = new DefaultRateController(TimeSpan.FromMilliseconds(100), initialRate: 1e6);
        fast.OnAcknowledged(new RateSample(1000, 10e6, TimeSpan.FromMilliseconds(10)));
        Assert.Equal(3, fast.ChooseLayers(layers, 0));
        Assert.True(fast.GetSendWindow() >= 10e6 * 0.11 - 1);
    }

    [Fact]
    public void App_limited_samples_raise_the_estimate_but_never_lower_it_and_their_round_trips_count()
    {
        var rate = new DefaultRateController(initialRate: 1e6, sampleWindow: 4);
        for (int i = 0; i < 8; i++)
        {
            rate.OnAcknowledged(new RateSample(500, 20_000, TimeSpan.FromMilliseconds(5), IsAppLimited: true));
        }

        Assert.Equal(1e6, rate.Throughput);                              // 8 idle-camera samples changed nothing
        Assert.Equal(TimeSpan.FromMilliseconds(5), rate.BaseRoundTrip);  // but their round trips are real

        rate.OnAcknowledged(new RateSample(500, 3e6, TimeSpan.FromMilliseconds(9), IsAppLimited: true));
        Assert.Equal(1.25e6, rate.Throughput);                           // a lower bound above the estimate is news,
        rate.OnAcknowledged(new RateSample(500, 3e6, TimeSpan.FromMilliseconds(9), IsAppLimited: true));
        Assert.Equal(1.5625e6, rate.Throughput);                         // a quarter at a time (a shaper's burst
        for (int i = 0; i < 3; i++)                                      // after an idle gap is not the link)
        {
            rate.OnAcknowledged(new RateSample(500, 3e6, TimeSpan.FromMilliseconds(9), IsAppLimited: true));
        }

        Assert.Equal(3e6, rate.Throughput);                              // and never beyond the sample

        for (int i = 0; i < 4; i++)
        {
            rate.OnAcknowledged(new RateSample(500, 200_000, TimeSpan.FromMilliseconds(9))); // the link, queue-limited
        }

        Assert.Equal(200_000, rate.Throughput);                          // window of 4: the max filter has moved on
    }

    [Fact]
    public void App_limited_samples_that_queued_behind_the_link_lower_an_optimistic_estimate()
    {
        // A 6 kB/s link under a 1 MB/s initial estimate: the window never fills, so every sample is app-limited, but
        // their round trips grow far past the base round trip plus the 200 ms target: the link is queueing them.
        var rate = new DefaultRateController(initialRate: 1e6);
        rate.OnAcknowledged(new RateSample(500, 6_000, TimeSpan.FromMilliseconds(80), IsAppLimited: true));
        Assert.Equal(1e6, rate.Throughput);                           // no queue yet: the camera's own pace
        rate.OnAcknowledged(new RateSample(500, 6_000, TimeSpan.FromMilliseconds(250), IsAppLimited: true));
        Assert.Equal(1e6, rate.Throughput);                           // 170 ms of queueing: within the target
        rate.OnAcknowledged(new RateSample(500, 6_100, TimeSpan.FromMilliseconds(900), IsAppLimited: true));
        Assert.Equal(6_100, rate.Throughput);                         // 820 ms of queueing: the link's rate
        Assert.Equal(16 << 10, rate.GetSendWindow());                 // and the window shrinks with it
    }

    [Fact]
    public void A_sample_that_queued_removes_the_shapers_burst_from_the_filter_but_keeps_lower_samples()
    {
        // A 6 kB/s link behind a token bucket: a camera's frames start after an idle gap, their first bytes cross the
        // full bucket at once and measure far more than the link. A sample that queued past the target delay shows
        // what the busy link sustains; samples more than a quarter above it go, lower ones stay.
        var rate = new DefaultRateController(initialRate: 6_000);
        for (int i = 0; i < 3; i++)
        {
            rate.OnAcknowledged(new RateSample(1000, 6_100, TimeSpan.FromMilliseconds(60)));
        }

        rate.OnAcknowledged(new RateSample(1000, 30_000, TimeSpan.FromMilliseconds(70), IsAppLimited: true));
        rate.OnAcknowledged(new RateSample(1000, 30_000, TimeSpan.FromMilliseconds(70), IsAppLimited: true));
        Assert.Equal(6_100 * 1.25 * 1.25, rate.Throughput, 6);         // the burst, let in a quarter at a time
        rate.OnAcknowledged(new RateSample(1000, 5_200, TimeSpan.FromMilliseconds(600), IsAppLimited: true));
        Assert.Equal(6_100, rate.Throughput);                          // queued 540 ms: the burst is gone, 6,100 stays
        rate.OnAcknowledged(new RateSample(1000, 1_500, TimeSpan.FromMilliseconds(900)));
        Assert.Equal(6_100, rate.Throughput);                          // a lone packet held 840 ms: not the link
        rate.OnAcknowledged(new RateSample(1000, 3_000, TimeSpan.FromMilliseconds(900)));
        Assert.Equal(3_000, rate.Throughput);                          // 2.7 kB delivered meanwhile: the link, at 3 kB/s
    }

    [Fact]
    public void Rate_and_round_trip_filters_forget_samples_older_than_their_age_but_keep_the_newest()
    {
        var clock = new ManualClock();
        var rate = new DefaultRateController(initialRate: 1e6, maxSampleAge: TimeSpan.FromSeconds(10), timeProvider: clock);
        for (int i = 0; i < 4; i++)
        {
            rate.OnAcknowledged(new RateSample(1000, 5e6, TimeSpan.FromMilliseconds(5)));
        }

        clock.Advance(TimeSpan.FromSeconds(3));
        rate.OnAcknowledged(new RateSample(1000, 500e3, TimeSpan.FromMilliseconds(40)));
        Assert.Equal(5e6, rate.Throughput);                             // 3 s on, the max filter still holds 5 MB/s
        Assert.Equal(TimeSpan.FromMilliseconds(5), rate.BaseRoundTrip);

        clock.Advance(TimeSpan.FromSeconds(8));                         // the 5 MB/s samples are 11 s old now
        Assert.Equal(500e3, rate.Throughput);                           // a count-only window of 32 would say 5 MB/s
        Assert.Equal(TimeSpan.FromMilliseconds(40), rate.BaseRoundTrip); // the route got longer

        clock.Advance(TimeSpan.FromMinutes(5));                         // silence: the newest sample is the last word
        Assert.Equal(500e3, rate.Throughput);
        Assert.Equal(TimeSpan.FromMilliseconds(40), rate.BaseRoundTrip);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DefaultRateController(maxSampleAge: TimeSpan.Zero));
    }
}

/// <summary>Builds multi-segment sequences.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long index)
    {
        Memory = memory;
        RunningIndex = index;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segments(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
        var last = first;
        for (int i = size; i < bytes.Length; i += size)
        {
            var next = new Segments(bytes.AsMemory(i, Math.Min(size, bytes.Length - i)), i);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
