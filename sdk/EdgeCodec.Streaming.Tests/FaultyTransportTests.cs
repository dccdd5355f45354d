using System.IO.Pipelines;

namespace EdgeCodec.Streaming.Tests;

public sealed class FaultyTransportTests
{
    [Fact]
    public async Task One_byte_reads_on_both_sides_still_deliver_every_packet()
    {
        var frames = Synthetic.Frames(new Random(1), 3, 2, 2, 3, 1, 700);
        string store = Synthetic.TempDirectory();
        var sender = Sessions.Sender();
        using var receiver = Sessions.Receiver(store);
        await Sessions.EnqueueAllAsync(sender, frames);
        var link = new MemoryLink();
        await using var a = link.SenderStream(oneByteReads: true);
        await using var b = link.ReceiverStream(oneByteReads: true);
        var s = sender.RunAsync(a);
        var r = receiver.RunAsync(b);
        Assert.True(await s.WaitAsync(TimeSpan.FromSeconds(20)));
        await r.WaitAsync(TimeSpan.FromSeconds(5));
        receiver.Dispose();
        Synthetic.AssertStoreHolds(store, frames);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Stream_that_throws_after_n_writes_fails_the_session_and_a_reconnect_finishes(int failAfter)
    {
        var frames = Synthetic.Frames(new Random(failAfter), 30, 2, 2, 2, 500, 2000);
        string store = Synthetic.TempDirectory();
        var sender = Sessions.Sender();
        using var receiver = Sessions.Receiver(store);
        await Sessions.EnqueueAllAsync(sender, frames);
        var link = new MemoryLink();
        var faulty = link.SenderStream(failAfterWrites: failAfter);
        var s = Sessions.Swallow(sender.RunAsync(faulty));
        var r = Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe));
        var senderError = await s.WaitAsync(TimeSpan.FromSeconds(10));
        await faulty.DisposeAsync();
        await r.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.IsType<IOException>(senderError);
        Assert.False(sender.IsFinished);

        await Sessions.FinishAsync(sender, receiver);
        Assert.Equal(frames.Sum(f => f.Packets.Count), receiver.Statistics.PacketsApplied);
        receiver.Dispose();
        Synthetic.AssertStoreHolds(store, frames);
    }

    [Fact]
    public async Task Cancelled_session_throws_promptly_and_resumes_on_the_next_connection()
    {
        var frames = Synthetic.Frames(new Random(2), 3, 2, 2, 2, 10, 300);
        string store = Synthetic.TempDirectory();
        var sender = Sessions.Sender();
        using var receiver = Sessions.Receiver(store);
        await Sessions.EnqueueAllAsync(sender, frames.Take(2), complete: false);
        using var cts = new CancellationTokenSource();
        var link = new MemoryLink();
        var s = Sessions.Swallow(sender.RunAsync(link.SenderPipe, cts.Token));
        var r = Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe, cts.Token));
        await Task.Delay(100);
        await cts.CancelAsync();
        Assert.IsAssignableFrom<OperationCanceledException>(await s.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.IsAssignableFrom<OperationCanceledException>(await r.WaitAsync(TimeSpan.FromSeconds(5)));

        await Sessions.EnqueueAllAsync(sender, frames.Skip(2));
        await Sessions.FinishAsync(sender, receiver);
        receiver.Dispose();
        Synthetic.AssertStoreHolds(store, frames);
    }

    [Fact]
    public async Task A_cancelled_pending_read_ends_the_session_with_OperationCanceledException()
    {
        var sender = Sessions.Sender();
        using var receiver = Sessions.Receiver(null);
        var link = new MemoryLink();
        var receiverPipe = link.ReceiverPipe;
        var r = Sessions.Swallow(receiver.RunAsync(receiverPipe));
        var s = Sessions.Swallow(sender.RunAsync(link.SenderPipe));
        await Task.Delay(100);
        receiverPipe.Input.CancelPendingRead();
        Assert.IsAssignableFrom<OperationCanceledException>(await r.WaitAsync(TimeSpan.FromSeconds(5)));
        await s.WaitAsync(TimeSpan.FromSeconds(5)); // the sender sees a clean close (false) or a failure
        Assert.False(sender.IsFinished);
    }

    [Fact]
    public async Task Oversize_message_is_rejected_from_its_length_prefix_before_the_body_arrives()
    {
        using var receiver = Sessions.Receiver(null, maxMessageSize: 4096);
        var pipe = new Pipe();
        var back = new Pipe();
        var r = Sessions.Swallow(receiver.RunAsync(new TestDuplex(pipe.Reader, back.Writer)));
        // A length prefix announcing 1 GiB, and nothing else: the receiver must fail without waiting for the body.
        byte[] prefix = [0x80, 0x80, 0x80, 0x80, 0x04];
        await pipe.Writer.WriteAsync(prefix);
        var error = await r.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.IsType<StreamProtocolException>(error);
        Assert.Contains("exceeds the limit", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Packet_over_the_receivers_message_limit_is_a_protocol_error()
    {
        var frames = Synthetic.Frames(new Random(3), 1, 1, 1, 1, 5000, 5000);
        var sender = Sessions.Sender();
        using var receiver = Sessions.Receiver(null, maxMessageSize: 1024);
        await Sessions.EnqueueAllAsync(sender, frames);
        var link = new MemoryLink();
        var s = Sessions.Swallow(sender.RunAsync(link.SenderPipe));
        var r = Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe));
        Assert.IsType<StreamProtocolException>(await r.WaitAsync(TimeSpan.FromSeconds(5)));
        await s.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Receiver_with_another_model_refuses_the_stream_on_both_sides()
    {
        var sender = Sessions.Sender();
        using var receiver = new StreamReceiver(new StreamReceiverOptions { ModelId = 42 });
        var link = new MemoryLink();
        var s = Sessions.Swallow(sender.RunAsync(link.SenderPipe));
        var r = Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe));
        Assert.IsType<StreamProtocolException>(await r.WaitAsync(TimeSpan.FromSeconds(5)));
        var error = await s.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.IsType<StreamProtocolException>(error);
        Assert.Contains("model", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enqueue_waits_while_the_retransmit_buffer_is_full_and_honours_cancellation()
    {
        var frames = Synthetic.Frames(new Random(4), 3, 1, 1, 1, 3000, 3000);
        var sender = Sessions.Sender(buffer: 4000);
        await sender.EnqueueAsync(frames[0].Header, frames[0].Packets);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sender.EnqueueAsync(frames[1].Header, frames[1].Packets, cts.Token));
        Assert.Equal(frames[0].Packets.Count, (int)(sender.NextSequence - frames[0].Packets[0].Sequence));
    }

    [Fact]
    public async Task Frames_that_break_dense_sequences_or_prefix_order_are_refused()
    {
        var frames = Synthetic.Frames(new Random(5), 2, 2, 1, 2, 10, 20);
        var sender = Sessions.Sender();
        await Assert.ThrowsAsync<ArgumentException>(async () => await sender.EnqueueAsync(frames[0].Header, [.. frames[0].Packets.Reverse()]));
        await sender.EnqueueAsync(frames[0].Header, frames[0].Packets);
        var gap = Synthetic.Frames(new Random(5), 1, 2, 1, 2, 10, 20, firstSequence: 100);
        await Assert.ThrowsAsync<ArgumentException>(async () => await sender.EnqueueAsync(gap[0].Header, gap[0].Packets));
    }

    private sealed class TestDuplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    [Fact]
    public async Task Compact_latents_deliver_the_same_packets_with_twelve_bytes_less_each()
    {
        var frames = Synthetic.Frames(new Random(11), 2, 2, 2, 2, 100, 400);
        async Task<(long Bytes, string Store)> RunAsync(bool compact)
        {
            string store = Synthetic.TempDirectory();
            var sender = new StreamSender(new StreamSenderOptions
            {
                ModelId = Synthetic.ModelId, StreamId = Synthetic.StreamId, CompactLatents = compact,
                MinRetransmitTimeout = TimeSpan.FromSeconds(5), KeepAliveInterval = TimeSpan.FromSeconds(5), IdleTimeout = TimeSpan.FromSeconds(10),
            });
            using var receiver = Sessions.Receiver(store);
            await Sessions.EnqueueAllAsync(sender, frames);
            await Sessions.FinishAsync(sender, receiver);
            return (sender.Statistics.BytesSent, store);
        }

        var (full, fullStore) = await RunAsync(compact: false);
        var (compact, compactStore) = await RunAsync(compact: true);
        Synthetic.AssertStoreHolds(fullStore, frames);
        Synthetic.AssertStoreHolds(compactStore, frames);
        int packets = frames.Sum(f => f.Packets.Count);
        Assert.True(full - compact >= 12L * packets, $"full {full} B, compact {compact} B for {packets} packets");
    }
}
