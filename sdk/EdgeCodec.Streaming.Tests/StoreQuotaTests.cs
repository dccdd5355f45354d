using EdgeCodec.Format;

namespace EdgeCodec.Streaming.Tests;

/// <summary><see cref="StreamReceiverOptions.StoreQuotaBytes"/>: compact, then trim, then delete the oldest settled frames.</summary>
public sealed class StoreQuotaTests
{
    // 8 frames of 2x2 tiles and 3 layers, 100..400-byte payloads: indexed files of ~3.5 kB with ~540 bytes of framing.
    private static readonly List<Synthetic.Frame> Frames = Synthetic.Frames(new Random(31), 8, 2, 2, 3, 100, 400);

    [Fact]
    public async Task Without_a_quota_nothing_is_rewritten_and_the_statistics_count_the_store()
    {
        string store = Synthetic.TempDirectory();
        var stats = await ReceiveAsync(store, quota: null);
        Assert.Equal(Directory.GetFiles(store, "frame-*.ecx").Sum(f => new FileInfo(f).Length), stats.StoreBytes);
        Assert.Equal((0L, 0L, 0L), (stats.FramesCompacted, stats.FramesTrimmed, stats.FramesDeleted));
        Assert.False(File.Exists(Path.Combine(store, "store-state.bin")));
        Synthetic.AssertStoreHolds(store, Frames);
        Directory.Delete(store, recursive: true);
    }

    [Theory]
    [InlineData(StoreDurability.ProcessCrash)]
    [InlineData(StoreDurability.PowerLoss)]
    public async Task Compaction_alone_meets_a_quota_it_can_and_loses_nothing(StoreDurability durability)
    {
        long full = await FullStoreBytesAsync();
        string store = Synthetic.TempDirectory();
        long quota = full - 1500; // about three frames' framing
        var stats = await ReceiveAsync(store, quota, durability);
        Assert.InRange(stats.FramesCompacted, 3, Frames.Count - 1);
        Assert.Equal((0L, 0L), (stats.FramesTrimmed, stats.FramesDeleted));
        Assert.True(stats.StoreBytes <= quota, $"{stats.StoreBytes} > {quota}");
        Assert.Equal(StoreBytesOnDisk(store), stats.StoreBytes);

        // Oldest first; every frame still holds every packet's payload, tile, layer and expert.
        var layouts = Frames.Select(f => Read(store, f).Layout).ToArray();
        Assert.Equal(Enumerable.Range(0, Frames.Count).Select(i => i < stats.FramesCompacted ? ContainerLayout.Compact : ContainerLayout.Indexed), layouts);
        foreach (var frame in Frames)
        {
            var read = Read(store, frame);
            Assert.True(read.IsComplete);
            AssertSamePayloads(frame.Packets, read.Packets);
        }

        Directory.Delete(store, recursive: true);
    }

    [Fact]
    public async Task A_tighter_quota_trims_the_oldest_frames_to_their_base_layer_then_deletes_them()
    {
        long full = await FullStoreBytesAsync();
        string store = Synthetic.TempDirectory();
        long quota = full / 2;
        var stats = await ReceiveAsync(store, quota);
        Assert.Equal(Frames.Count, stats.FramesCompacted);
        Assert.InRange(stats.FramesTrimmed, 1, Frames.Count);
        Assert.Equal(0, stats.FramesDeleted);
        Assert.True(stats.StoreBytes <= quota);
        for (int i = 0; i < Frames.Count; i++)
        {
            var read = Read(store, Frames[i]);
            Assert.True(read.IsComplete);
            int layers = i < stats.FramesTrimmed ? 1 : 3;
            Assert.Equal(layers, read.Header.LayerCount);
            AssertSamePayloads(Frames[i].Packets.Take(layers * 4).ToList(), read.Packets);
        }

        string small = Synthetic.TempDirectory();
        quota = full / 8;
        stats = await ReceiveAsync(small, quota);
        Assert.InRange(stats.FramesTrimmed, 1, Frames.Count);
        Assert.InRange(stats.FramesDeleted, 1, Frames.Count - 1);
        Assert.True(stats.StoreBytes <= quota);
        string[] kept = [.. Directory.GetFiles(small, "frame-*.ecx").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(Frames.Skip((int)stats.FramesDeleted).Select(f => $"frame-{f.Packets[0].FrameIndex:D10}.ecx"), kept);
        Directory.Delete(store, recursive: true);
        Directory.Delete(small, recursive: true);
    }

    [Fact]
    public async Task A_receiver_restarted_on_a_reduced_store_resumes_at_its_watermark_and_takes_nothing_again()
    {
        long full = await FullStoreBytesAsync();
        string store = Synthetic.TempDirectory();
        ulong resume;
        using (var receiver = Receiver(store, full / 8))
        {
            var sender = Sessions.Sender();
            await Sessions.EnqueueAllAsync(sender, Frames);
            await Sessions.FinishAsync(sender, receiver);
            resume = receiver.ResumeSequence;
            Assert.True(receiver.Statistics.FramesDeleted > 0);
        }

        Assert.Equal((ulong)Frames.Sum(f => f.Packets.Count), resume);
        using (var again = Receiver(store, full / 8))
        {
            Assert.Equal(resume, again.ResumeSequence);
            Assert.Equal(Directory.GetFiles(store, "frame-*.ecx").Length, again.CompletedFrames.Count);

            // A sender that re-offers everything (it would have forgotten the acknowledged packets) stores nothing.
            var sender = Sessions.Sender();
            await Sessions.EnqueueAllAsync(sender, Frames);
            await Sessions.FinishAsync(sender, again);
            Assert.Equal(0, again.Statistics.PacketsApplied);
        }

        // Without the state file the deleted frames' sequences are unknown: the receiver asks for them again.
        File.Delete(Path.Combine(store, StoreState.FileName));
        using (var forgetful = Receiver(store, quota: null))
        {
            Assert.True(forgetful.ResumeSequence < resume);
        }

        Directory.Delete(store, recursive: true);
    }

    [Fact]
    public async Task Leftovers_of_an_interrupted_rewrite_are_removed_and_a_damaged_state_is_a_clear_error()
    {
        long full = await FullStoreBytesAsync();
        string store = Synthetic.TempDirectory();
        await ReceiveAsync(store, full - 1500);
        var before = Directory.GetFiles(store, "frame-*.ecx").ToDictionary(f => f, File.ReadAllBytes);

        // A kill between writing a temporary file and renaming it over the old one.
        File.WriteAllBytes(Path.Combine(store, "frame-0000000001.ecx.tmp"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(store, StoreState.FileName + ".tmp"), [4, 5]);
        using (var receiver = Receiver(store, full - 1500))
        {
            Assert.Equal(Frames.Count, receiver.CompletedFrames.Count);
        }

        Assert.Empty(Directory.GetFiles(store, "*.tmp"));
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));

        byte[] state = File.ReadAllBytes(Path.Combine(store, StoreState.FileName));
        state[9] ^= 1;
        File.WriteAllBytes(Path.Combine(store, StoreState.FileName), state);
        var ex = Assert.Throws<InvalidDataException>(() => Receiver(store, null).Dispose());
        Assert.Contains("store state", ex.Message, StringComparison.Ordinal);
        File.WriteAllBytes(Path.Combine(store, StoreState.FileName), new byte[1 << 20]); // not read whole: the size is wrong
        Assert.Throws<InvalidDataException>(() => Receiver(store, null).Dispose());
        Assert.Throws<ArgumentOutOfRangeException>(() => Receiver(store, 0));
        Directory.Delete(store, recursive: true);
    }

    private static async Task<long> FullStoreBytesAsync()
    {
        string store = Synthetic.TempDirectory();
        long bytes = (await ReceiveAsync(store, quota: null)).StoreBytes;
        Directory.Delete(store, recursive: true);
        return bytes;
    }

    private static async Task<StreamReceiverStatistics> ReceiveAsync(string store, long? quota, StoreDurability durability = StoreDurability.ProcessCrash)
    {
        using var receiver = Receiver(store, quota, durability);
        var sender = Sessions.Sender();
        await Sessions.EnqueueAllAsync(sender, Frames);
        await Sessions.FinishAsync(sender, receiver);
        return receiver.Statistics;
    }

    private static StreamReceiver Receiver(string store, long? quota, StoreDurability durability = StoreDurability.ProcessCrash) => new(new StreamReceiverOptions
    {
        ModelId = Synthetic.ModelId, StoreDirectory = store, StoreQuotaBytes = quota, Durability = durability,
        KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
    });

    private static ContainerReadResult Read(string store, Synthetic.Frame frame)
    {
        using var stream = File.OpenRead(Path.Combine(store, $"frame-{frame.Packets[0].FrameIndex:D10}.ecx"));
        return ContainerReader.Read(stream);
    }

    private static long StoreBytesOnDisk(string store) => Directory.GetFiles(store, "frame-*.ecx").Sum(f => new FileInfo(f).Length);

    private static void AssertSamePayloads(IReadOnlyList<LatentPacket> expected, IReadOnlyList<LatentPacket> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal((expected[i].FrameIndex, expected[i].TileIndex, expected[i].Layer, expected[i].ExpertId), (actual[i].FrameIndex, actual[i].TileIndex, actual[i].Layer, actual[i].ExpertId));
            Assert.True(expected[i].Payload.Span.SequenceEqual(actual[i].Payload.Span));
        }
    }
}
