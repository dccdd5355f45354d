using System.Buffers;
using EdgeCodec.Streaming.Protocol;

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

    /// <summary>Plays <paramref name="messages"/> to the receiver as a raw sender (after its HELLO), then says goodbye.</summary>
    /// <param name="afterMessage">If set, awaited after the i-th message of <paramref name="messages"/> is flushed.</param>
    public static async Task RunRawSenderAsync(StreamReceiver receiver, IEnumerable<Message> messages, ulong lowestUnacknowledged = 0, Func<int, Task>? afterMessage = null)
    {
        var link = new MemoryLink();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = receiver.RunAsync(link.ReceiverPipe, timeout.Token);
        var pipe = link.SenderPipe;
        var drain = Task.Run(async () =>
        {
            while (!(await pipe.Input.ReadAsync(timeout.Token) is var read && read.IsCompleted))
            {
                pipe.Input.AdvanceTo(read.Buffer.End);
            }
        });

        var scratch = new ArrayBufferWriter<byte>();
        var hello = new HelloMessage { Role = HelloMessage.SenderRole, StreamId = Synthetic.StreamId, ModelId = Synthetic.ModelId, Sequence = lowestUnacknowledged };
        async Task WriteAsync(Message m)
        {
            if (m is LatentMessage latent)
            {
                MessageCodec.WriteLatent(pipe.Output, MessageCodec.SerializePacketBody(latent.Packet));
            }
            else
            {
                MessageCodec.Write(pipe.Output, m, scratch);
            }

            await pipe.Output.FlushAsync(timeout.Token);
        }

        await WriteAsync(hello);
        int index = 0;
        foreach (var m in messages)
        {
            await WriteAsync(m);
            if (afterMessage is not null)
            {
                await afterMessage(index);
            }

            index++;
        }

        await WriteAsync(new ByeMessage { Reason = ByeMessage.Finished, Text = "bye" });
        await run;
        await pipe.Output.CompleteAsync();
        await drain; // the receiver completes its side when the session ends
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
