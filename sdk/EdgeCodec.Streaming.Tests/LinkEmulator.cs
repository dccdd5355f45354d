using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;

namespace EdgeCodec.Streaming.Tests;

/// <summary>Impairments of one emulated link; all randomness comes from the seed.</summary>
public sealed record LinkProfile
{
    /// <summary>(until ms since connect, bytes/s); rate 0 is an outage (nothing passes); after the last entry the last rate holds.</summary>
    public IReadOnlyList<(double UntilMs, double Rate)> BandwidthTrace { get; init; } = [(double.MaxValue, 50e6)];

    public double LatencyMs { get; init; }

    public double Loss { get; init; }

    public double Duplication { get; init; }

    public double Reorder { get; init; }

    /// <summary>
    /// Receiver-to-sender messages arrive in bursts, all those due within each period of this many milliseconds at its
    /// end (0 = off): acknowledgement compression, as a busy receiver, a Wi-Fi aggregate or a token-bucket shaper's
    /// queue produces it. The sender's delivery-rate samples then see bytes acknowledged in a rush.
    /// </summary>
    public double AckBurstMs { get; init; }

    /// <summary>
    /// Sender-to-receiver shaping by a token bucket of this many bytes (0 = off, plain serialization at the rate): tokens
    /// accrue at the trace's rate up to this depth, and a message passes at ten times the rate while they last, as
    /// behind Linux's <c>tbf</c> with a burst. After an idle gap the first bytes of a frame cross fast and the rest at the
    /// rate, so a delivery-rate sample over the burst measures more than the link sustains.
    /// </summary>
    public double BucketBytes { get; init; }

    /// <summary>Per connection: sender-to-receiver bytes after which the connection is reset (absent or null = never).</summary>
    public IReadOnlyList<long?> KillAfterBytes { get; init; } = [];
}

/// <summary>
/// An in-process link between a sender and a receiver. Each direction carries whole messages (it parses only the
/// varint length): bandwidth from a trace (serialization delay, outages), latency, and — unlike TCP — loss,
/// duplication and reordering of whole messages, as a lossy relay would do. The first message of each direction
/// (HELLO) is never impaired. Connections can be reset after a number of bytes.
/// </summary>
public sealed class LinkEmulator(LinkProfile profile, int seed)
{
    private const int PipeLimit = 64 << 10;

    public LinkConnection Connect(int index)
    {
        var cts = new CancellationTokenSource();
        long? kill = index < profile.KillAfterBytes.Count ? profile.KillAfterBytes[index] : null;
        var up = new Direction(profile, new Random(HashCode.Combine(seed, index, 1)), kill, cts, 0, profile.BucketBytes);
        var down = new Direction(profile, new Random(HashCode.Combine(seed, index, 2)), null, cts, profile.AckBurstMs, 0);
        var senderSide = new Duplex(down.Out.Reader, up.In.Writer);
        var receiverSide = new Duplex(up.Out.Reader, down.In.Writer);
        var pumps = Task.WhenAll(up.RunAsync(), down.RunAsync());
        return new LinkConnection(senderSide, receiverSide, pumps, cts);
    }

    private static PipeOptions Options => new(pauseWriterThreshold: PipeLimit, resumeWriterThreshold: PipeLimit / 2, useSynchronizationContext: false);

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class Direction(LinkProfile profile, Random rng, long? killAfter, CancellationTokenSource reset, double burstMs, double bucketBytes)
    {
        private readonly PriorityQueue<byte[], (double, long)> _queue = new();
        private readonly SemaphoreSlim _signal = new(0);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _order;
        private bool _inputDone;

        public Pipe In { get; } = new(Options);

        public Pipe Out { get; } = new(Options);

        public Task RunAsync() => Task.WhenAll(Task.Run(PumpAsync), Task.Run(DeliverAsync));

        private double Now => _clock.Elapsed.TotalMilliseconds;

        private double RateAt(double ms)
        {
            foreach (var (until, rate) in profile.BandwidthTrace)
            {
                if (ms < until)
                {
                    return rate;
                }
            }

            return profile.BandwidthTrace[^1].Rate;
        }

        private async Task PumpAsync()
        {
            var reader = In.Reader;
            double linkFreeAt = 0, tokens = bucketBytes, tokensAt = 0;
            long bytes = 0;
            bool first = true;
            try
            {
                while (true)
                {
                    var result = await reader.ReadAsync(reset.Token);
                    var buffer = result.Buffer;
                    while (TryTakeMessage(ref buffer, out byte[] message))
                    {
                        bytes += message.Length;
                        if (killAfter is long k && bytes > k)
                        {
                            await reset.CancelAsync();
                            reset.Token.ThrowIfCancellationRequested();
                        }

                        // Serialization: wait while the rate is 0 (outage), then occupy the link for len / rate.
                        double start = Math.Max(Now, linkFreeAt);
                        while (RateAt(start) <= 0)
                        {
                            start += 1;
                        }

                        double rate = RateAt(start);
                        if (bucketBytes > 0)
                        {
                            // Token bucket: wait for the message's tokens, then cross at the interface's speed.
                            tokens = Math.Min(bucketBytes, tokens + ((start - tokensAt) * rate / 1000));
                            if (tokens < message.Length)
                            {
                                start += (message.Length - tokens) * 1000 / rate;
                                tokens = message.Length;
                            }

                            tokens -= message.Length;
                            tokensAt = start;
                            rate *= 10;
                        }

                        linkFreeAt = start + (message.Length * 1000.0 / rate);
                        double deliverAt = linkFreeAt + profile.LatencyMs;
                        if (burstMs > 0)
                        {
                            deliverAt = Math.Ceiling(deliverAt / burstMs) * burstMs;
                        }

                        if (first)
                        {
                            Enqueue(message, deliverAt);
                            first = false;
                        }
                        else if (rng.NextDouble() >= profile.Loss)
                        {
                            Enqueue(message, deliverAt + (rng.NextDouble() < profile.Reorder ? 1 + (rng.NextDouble() * 4) : 0));
                            if (rng.NextDouble() < profile.Duplication)
                            {
                                Enqueue(message, deliverAt + (rng.NextDouble() * 3));
                            }
                        }

                        // Backpressure: the link buffers only a few milliseconds ahead of its serialization.
                        double ahead = linkFreeAt - Now - 3;
                        if (ahead > 0)
                        {
                            await Task.Delay(TimeSpan.FromMilliseconds(ahead), reset.Token);
                        }
                    }

                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }

                await reader.CompleteAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
            {
                await reader.CompleteAsync(new IOException("Link reset."));
            }

            lock (_queue)
            {
                _inputDone = true;
            }

            _signal.Release();
        }

        private void Enqueue(byte[] message, double at)
        {
            lock (_queue)
            {
                _queue.Enqueue(message, (at, _order++));
            }

            _signal.Release();
        }

        private async Task DeliverAsync()
        {
            var writer = Out.Writer;
            try
            {
                while (true)
                {
                    byte[]? next = null;
                    double wait;
                    lock (_queue)
                    {
                        if (_queue.TryPeek(out var m, out var key))
                        {
                            wait = key.Item1 - Now;
                            if (wait <= 0)
                            {
                                next = _queue.Dequeue();
                            }
                        }
                        else
                        {
                            if (_inputDone)
                            {
                                break;
                            }

                            wait = 50;
                        }
                    }

                    if (next is not null)
                    {
                        await writer.WriteAsync(next, reset.Token);
                        continue;
                    }

                    await _signal.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(wait, 0.5)), reset.Token);
                }

                if (reset.IsCancellationRequested)
                {
                    throw new OperationCanceledException();
                }

                await writer.CompleteAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
            {
                await writer.CompleteAsync(new IOException("Link reset."));
            }
        }

        private static bool TryTakeMessage(ref ReadOnlySequence<byte> buffer, out byte[] message)
        {
            message = [];
            int length = 0, prefix = 0, shift = 0;
            var reader = new SequenceReader<byte>(buffer);
            while (true)
            {
                if (!reader.TryRead(out byte b))
                {
                    return false;
                }

                prefix++;
                length |= (b & 0x7F) << shift;
                shift += 7;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }

            if (buffer.Length < prefix + length)
            {
                return false;
            }

            message = buffer.Slice(0, prefix + length).ToArray();
            buffer = buffer.Slice(prefix + length);
            return true;
        }
    }
}

/// <summary>Both ends of one emulated connection.</summary>
public sealed class LinkConnection(IDuplexPipe senderSide, IDuplexPipe receiverSide, Task pumps, CancellationTokenSource reset) : IDisposable
{
    public IDuplexPipe SenderSide { get; } = senderSide;

    public IDuplexPipe ReceiverSide { get; } = receiverSide;

    public Task Pumps { get; } = pumps;

    /// <summary>Resets the connection: both endpoints see an IOException.</summary>
    public void Kill() => reset.Cancel();

    public void Dispose() => reset.Dispose();
}
