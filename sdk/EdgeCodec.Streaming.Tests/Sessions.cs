namespace EdgeCodec.Streaming.Tests;

internal static class Sessions
{
    public static StreamSender Sender(long buffer = 1 << 20) => new(new StreamSenderOptions
    {
        ModelId = Synthetic.ModelId, StreamId = Synthetic.StreamId, RetransmitBufferBytes = buffer,
        MinRetransmitTimeout = TimeSpan.FromMilliseconds(50), KeepAliveInterval = TimeSpan.FromMilliseconds(100),
        IdleTimeout = TimeSpan.FromSeconds(3),
    });

    public static StreamReceiver Receiver(string? store, int maxMessageSize = (16 << 20) + 1024) => new(new StreamReceiverOptions
    {
        ModelId = Synthetic.ModelId, StoreDirectory = store, MaxMessageSize = maxMessageSize,
        KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
    });

    public static async Task EnqueueAllAsync(StreamSender sender, IEnumerable<Synthetic.Frame> frames, bool complete = true)
    {
        foreach (var f in frames)
        {
            await sender.EnqueueAsync(f.Header, f.Packets);
        }

        if (complete)
        {
            sender.Complete();
        }
    }

    /// <summary>Runs one clean in-memory session to the end.</summary>
    public static async Task FinishAsync(StreamSender sender, StreamReceiver receiver)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var link = new MemoryLink();
        var s = sender.RunAsync(link.SenderPipe, timeout.Token);
        var r = receiver.RunAsync(link.ReceiverPipe, timeout.Token);
        Assert.True(await s);
        await r;
    }

    public static async Task<Exception?> Swallow(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
