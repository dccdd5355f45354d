using System.Diagnostics;

namespace EdgeCodec.Streaming.Tests;

/// <summary>
/// One seeded scenario: random frames, a random link (bandwidth trace with outages, latency, loss, duplication,
/// reordering, resets) and sometimes a receiver crash between connections. Asserts the transport guarantees.
/// </summary>
public static class ScenarioRunner
{
    public sealed record Outcome(StreamSenderStatistics Sender, long Duplicates, long Connections, bool ReceiverCrashed);

    public static async Task<Outcome> RunAsync(int seed)
    {
        var rng = new Random(seed);
        int layers = rng.Next(1, 5);
        var frames = Synthetic.Frames(rng, rng.Next(2, 8), rng.Next(1, 4), rng.Next(1, 3), layers, 20, rng.Next(100, 1500), (ulong)rng.Next(0, 3) * 1000);
        long totalBytes = frames.Sum(f => f.Packets.Sum(p => p.Payload.Length + 40L));
        var trace = new List<(double, double)>();
        double t = 0;
        for (int i = 0; i < 4; i++)
        {
            t += rng.Next(10, 60);
            double roll = rng.NextDouble();

            // An outage, a slow spell (0.2-1 MB/s: frames outgrow the rate controller's budget, so layers are deferred and
            // back-filled later), or a fast link.
            trace.Add((t, roll < 0.25 ? 0 : roll < 0.45 ? rng.Next(2, 11) * 1e5 : rng.Next(1, 40) * 1e6));
        }

        trace.Add((double.MaxValue, rng.Next(5, 40) * 1e6));
        int resets = rng.Next(0, 4);
        var profile = new LinkProfile
        {
            BandwidthTrace = trace,
            LatencyMs = rng.NextDouble() * 3,
            Loss = rng.NextDouble() < 0.5 ? 0 : rng.NextDouble() * 0.08,
            Duplication = rng.NextDouble() < 0.5 ? 0 : rng.NextDouble() * 0.08,
            Reorder = rng.NextDouble() < 0.5 ? 0 : rng.NextDouble() * 0.15,
            KillAfterBytes = [.. Enumerable.Range(0, resets).Select(_ => (long?)rng.NextInt64(0, totalBytes))],
        };
        bool crashReceiver = rng.NextDouble() < 0.3;
        string store = Synthetic.TempDirectory();
        var emulator = new LinkEmulator(profile, seed);
        var sender = new StreamSender(new StreamSenderOptions
        {
            ModelId = Synthetic.ModelId, StreamId = Synthetic.StreamId,
            LossyTransport = true, MinRetransmitTimeout = TimeSpan.FromMilliseconds(40), KeepAliveInterval = TimeSpan.FromMilliseconds(100),
            IdleTimeout = TimeSpan.FromSeconds(3),
            RateController = new DefaultRateController(TimeSpan.FromMilliseconds(20), initialRate: 5e6),
            RetransmitBufferBytes = rng.Next(8, 64) << 10,
        });
        var events = new List<FrameProgressEventArgs>();
        long applied = 0;
        StreamReceiver NewReceiver()
        {
            var r = new StreamReceiver(new StreamReceiverOptions
            {
                ModelId = Synthetic.ModelId, StoreDirectory = store, MaxOpenFiles = 3,
                KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
            });
            r.FrameProgress += (_, e) =>
            {
                lock (events)
                {
                    events.Add(e);
                }
            };
            return r;
        }

        var receiver = NewReceiver();
        long duplicates = 0;
        bool crashed = false;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var producer = Task.Run(
            async () =>
            {
                foreach (var f in frames)
                {
                    await sender.EnqueueAsync(f.Header, f.Packets, deadline.Token);
                    if (rng.Next(3) == 0)
                    {
                        await Task.Delay(rng.Next(1, 8), deadline.Token);
                    }
                }

                sender.Complete();
            },
            deadline.Token);
        try
        {
            for (int connection = 0; !sender.IsFinished; connection++)
            {
                Assert.True(connection < 50, $"seed {seed}: no progress after 50 connections");
                using var link = emulator.Connect(connection);
                var s = Capture(sender.RunAsync(link.SenderSide, deadline.Token));
                var r = Capture(receiver.RunAsync(link.ReceiverSide, deadline.Token));
                await Task.WhenAll(s, r);
                link.Kill();
                await link.Pumps;
                deadline.Token.ThrowIfCancellationRequested();
                if (crashReceiver && connection % 2 == 0 && !sender.IsFinished)
                {
                    applied += receiver.Statistics.PacketsApplied;
                    duplicates += receiver.Statistics.Duplicates;
                    crashed = true;
                    receiver.Dispose();
                    receiver = NewReceiver();
                }
            }

            await producer;
            applied += receiver.Statistics.PacketsApplied;
            duplicates += receiver.Statistics.Duplicates;
        }
        finally
        {
            receiver.Dispose();
        }

        // Every frame complete and bit-identical in the store; nothing applied twice; base before refinements.
        Synthetic.AssertStoreHolds(store, frames);
        Assert.Equal(frames.Sum(f => f.Packets.Count), applied);
        foreach (var f in frames)
        {
            uint index = f.Packets[0].FrameIndex;
            var steps = events.Where(e => e.FrameIndex == index).ToList();
            Assert.Equal(Enumerable.Range(1, layers), steps.Select(e => e.CompleteLayers));
            Assert.Equal(FrameProgressKind.BaseLayerComplete, steps[0].Kind);
            Assert.All(steps.Skip(1), e => Assert.Equal(FrameProgressKind.Refined, e.Kind));
        }

        Directory.Delete(store, recursive: true);
        return new Outcome(sender.Statistics, duplicates, sender.Statistics.Connections, crashed);
    }

    /// <summary>A session that ends with a link reset is expected; it only needs to end.</summary>
    private static async Task Capture(Task<bool> session)
    {
        try
        {
            await session;
        }
        catch (Exception e) when (e is IOException or TimeoutException or StreamProtocolException)
        {
            Debug.WriteLine(e.Message);
        }
    }
}
