using System.Buffers;
using EdgeCodec.Format;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Streaming.Tests;

/// <summary>The receiver's memory stays within its limits whatever a sender does, and nothing stored is lost.</summary>
public sealed class ReceiverMemoryTests
{
    private const long Budget = 64 << 10;

    private static StreamReceiver Receiver(string? store, long budget = Budget, int maxFrames = 4096) => new(new StreamReceiverOptions
    {
        ModelId = Synthetic.ModelId, StoreDirectory = store, MaxBufferedBytes = budget, MaxIncompleteFrames = maxFrames,
        KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
    });

    private static readonly ContainerHeader TwoLayers = ContainerHeader.Create(Synthetic.ModelId, 64, 64, 64, 64, 2, 1, 0);

    private static LatentPacket Packet(Random rng, ulong sequence, uint frame, byte layer, int size = 4096)
    {
        byte[] payload = new byte[size];
        rng.NextBytes(payload);
        return new LatentPacket
        {
            StreamId = Synthetic.StreamId, Sequence = sequence, FrameIndex = frame, TileIndex = 0, Layer = layer,
            ModelId = Synthetic.ModelId, Payload = payload,
        };
    }

    /// <summary>
    /// A hostile sender: announces <paramref name="frames"/> two-layer frames and sends only each one's first 4 KB
    /// packet (no frame ever completes), plus packets of frames it never announces. Returns the announced frames' packets.
    /// </summary>
    private static async Task<List<LatentPacket>> RunHostileSenderAsync(StreamReceiver receiver, int frames)
    {
        var rng = new Random(5);
        var sent = new List<LatentPacket>();
        var messages = new List<Message>();
        for (uint f = 0; f < frames; f++)
        {
            var p = Packet(rng, 2 * f, f, 0);
            sent.Add(p);
            messages.Add(new HeaderMessage { StreamId = Synthetic.StreamId, FrameIndex = f, Header = TwoLayers });
            messages.Add(new LatentMessage(p));
            messages.Add(new LatentMessage(Packet(rng, (2 * f) + 1, 1_000_000 + f, 0))); // never announced: an orphan
        }

        await Sessions.RunRawSenderAsync(receiver, messages);
        return sent;
    }

    [Fact]
    public async Task Packets_whose_header_never_comes_are_released_unacknowledged_after_the_orphan_timeout()
    {
        var clock = new ManualClock();
        using var receiver = new StreamReceiver(new StreamReceiverOptions
        {
            ModelId = Synthetic.ModelId, OrphanTimeout = TimeSpan.FromSeconds(10), TimeProvider = clock,
            KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
        });
        var completed = new List<TaskCompletionSource>();
        for (int i = 0; i < 2; i++)
        {
            completed.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        receiver.FrameProgress += (_, e) =>
        {
            if (e.IsComplete)
            {
                completed[e.FrameIndex == 0 ? 0 : 1].TrySetResult();
            }
        };

        var rng = new Random(9);
        var header = (uint frame) => new HeaderMessage { StreamId = Synthetic.StreamId, FrameIndex = frame, Header = TwoLayers };
        Message[] messages =
        [
            new LatentMessage(Packet(rng, 0, 1000, 0)), new LatentMessage(Packet(rng, 1, 1000, 1)), // frame 1000: no HEADER ever
            header(0), new LatentMessage(Packet(rng, 2, 0, 0)), new LatentMessage(Packet(rng, 3, 0, 1)), // frame 0: complete
            new LatentMessage(Packet(rng, 4, 2000, 0)), // after the timeout: a new orphan, whose HEADER then comes
            header(2000), new LatentMessage(Packet(rng, 5, 2000, 1)),
        ];
        long heldBeforeTimeout = -1;
        await Sessions.RunRawSenderAsync(receiver, messages, afterMessage: async i =>
        {
            if (i == 4)
            {
                // Frame 0 completing proves the receiver has taken in everything before it, the orphans included.
                await completed[0].Task.WaitAsync(TimeSpan.FromSeconds(10));
                heldBeforeTimeout = receiver.Statistics.BufferedBytes;
                clock.Advance(TimeSpan.FromSeconds(11));
            }
        });
        await completed[1].Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stats = receiver.Statistics;
        Assert.True(heldBeforeTimeout >= 2 * 4096, $"{heldBeforeTimeout} bytes held for the two orphans");
        Assert.Equal(2, stats.OrphansExpired);          // frame 1000's packets, not frame 2000's (adopted in time)
        Assert.Equal(0, stats.BufferedBytes);
        Assert.Equal(0, stats.Dropped);
        Assert.Equal(4, stats.PacketsApplied);
        Assert.Equal([0u, 2000u], receiver.CompletedFrames);
        Assert.Equal(0ul, receiver.ResumeSequence); // 0 and 1 were never acknowledged: a sender that has them resends them
    }

    [Fact]
    public void An_orphan_timeout_that_is_not_positive_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamReceiver(new StreamReceiverOptions
        {
            ModelId = Synthetic.ModelId, OrphanTimeout = TimeSpan.Zero,
        }));
    }

    [Fact]
    public async Task Without_a_store_a_flood_of_incomplete_frames_is_bounded_by_evicting_the_oldest()
    {
        using var receiver = Receiver(store: null);
        await RunHostileSenderAsync(receiver, frames: 200);
        var stats = receiver.Statistics;

        // 200 frames x 4 KB applied plus 200 orphans would be ~1.6 MB; the budget is 64 KiB.
        Assert.InRange(stats.BufferedBytes, 1, Budget);
        Assert.True(stats.FramesEvicted >= 150, $"{stats.FramesEvicted} frames evicted");
        Assert.True(stats.Dropped >= 150, $"{stats.Dropped} orphans dropped");
        Assert.Equal(200, stats.PacketsApplied);
    }

    [Fact]
    public async Task With_a_store_packets_are_released_from_memory_but_every_one_stays_stored()
    {
        string dir = Synthetic.TempDirectory();
        List<LatentPacket> sent;
        using (var receiver = Receiver(dir))
        {
            var progress = new List<FrameProgressEventArgs>();
            receiver.FrameProgress += (_, e) => progress.Add(e);
            sent = await RunHostileSenderAsync(receiver, frames: 100);
            var stats = receiver.Statistics;
            Assert.InRange(stats.BufferedBytes, 1, Budget);
            Assert.Equal(0, stats.FramesEvicted); // released, not given up: the frames can still complete
            Assert.Equal(100, stats.PacketsApplied);

            // Progress snapshots of released frames come back from their files, whole.
            Assert.Equal(100, progress.Count);
            for (int i = 0; i < 100; i++)
            {
                Synthetic.AssertSame(sent[i], Assert.Single(progress[i].Packets));
            }
        }

        foreach (var p in sent)
        {
            using var stream = File.OpenRead(Path.Combine(dir, $"frame-{p.FrameIndex:D10}.ecx"));
            Synthetic.AssertSame(p, Assert.Single(ContainerReader.Read(stream).Packets));
        }
    }

    [Fact]
    public async Task Too_many_incomplete_frames_evict_the_oldest_and_their_late_packets_are_acknowledged()
    {
        string dir = Synthetic.TempDirectory();
        using var receiver = Receiver(dir, budget: 1L << 30, maxFrames: 10);
        await RunHostileSenderAsync(receiver, frames: 30);
        var stats = receiver.Statistics;
        Assert.Equal(20, stats.FramesEvicted);
        Assert.Equal(30, stats.PacketsApplied); // each frame's first packet was stored before its eviction

        // The sender later completes every frame: the 20 evicted ones keep their stored base layer and their second
        // layer is acknowledged and discarded; the 10 tracked ones complete.
        var rng = new Random(6);
        await Sessions.RunRawSenderAsync(receiver, Enumerable.Range(0, 30).SelectMany(f => new Message[]
        {
            new HeaderMessage { StreamId = Synthetic.StreamId, FrameIndex = (uint)f, Header = TwoLayers },
            new LatentMessage(Packet(rng, 100 + (ulong)f, (uint)f, 1, 100)),
        }), lowestUnacknowledged: 100);
        stats = receiver.Statistics;
        Assert.Equal(20, stats.PacketsDiscarded);
        Assert.Equal(30 + 10, stats.PacketsApplied);
        Assert.Equal(Enumerable.Range(20, 10).Select(i => (uint)i), receiver.CompletedFrames);
        Assert.Equal(130UL, receiver.ResumeSequence); // the discarded packets are acknowledged too
    }

    [Fact]
    public async Task A_budget_smaller_than_one_frame_still_lets_a_real_sender_finish_with_everything_stored()
    {
        // 3 layers x 4 tiles of 300..900 B per frame: every frame is larger than the 2 KiB budget, so the receiver
        // releases packets mid-frame, over and over.
        var frames = Synthetic.Frames(new Random(11), 12, 2, 2, 3, 300, 900);
        string dir = Synthetic.TempDirectory();
        using var receiver = Receiver(dir, budget: 2048);
        int progressSteps = 0;
        receiver.FrameProgress += (_, e) =>
        {
            Assert.True(e.Packets.Count >= e.CompleteLayers * 4);
            progressSteps++;
        };
        var sender = Sessions.Sender();
        await Sessions.EnqueueAllAsync(sender, frames);
        await Sessions.FinishAsync(sender, receiver);
        Assert.Equal(12 * 3, progressSteps);
        Assert.Equal(12, receiver.Statistics.FramesCompleted);
        Assert.Equal(0, receiver.Statistics.BufferedBytes);
        Synthetic.AssertStoreHolds(dir, frames);
    }
}
