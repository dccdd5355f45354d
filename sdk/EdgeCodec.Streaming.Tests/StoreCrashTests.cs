using EdgeCodec.Format;

namespace EdgeCodec.Streaming.Tests;

public sealed class StoreCrashTests
{
    [Fact]
    public async Task Store_files_cut_at_random_bytes_reopen_resume_and_end_identical()
    {
        var rng = new Random(11);
        var frames = Synthetic.Frames(rng, 3, 2, 2, 3, 10, 400);
        string original = Synthetic.TempDirectory();
        var first = Sessions.Sender();
        using (var receiver = Sessions.Receiver(original))
        {
            await Sessions.EnqueueAllAsync(first, frames);
            await Sessions.FinishAsync(first, receiver);
        }

        string[] files = [.. Directory.GetFiles(original, "*.ecx").Order(StringComparer.Ordinal)];
        Assert.Equal(3, files.Length);
        for (int trial = 0; trial < 24; trial++)
        {
            // A kill -9 can cut any file at any byte, the header included. Cut one file (sometimes all of them).
            string copy = Synthetic.TempDirectory();
            var kept = new Dictionary<uint, int>();
            foreach (string file in files)
            {
                byte[] bytes = await File.ReadAllBytesAsync(file);
                int cut = trial % 4 == 0 || file == files[trial % files.Length] ? rng.Next(0, bytes.Length + 1) : bytes.Length;
                await File.WriteAllBytesAsync(Path.Combine(copy, Path.GetFileName(file)), bytes.AsSpan(0, cut).ToArray());
            }

            long intact = 0;
            foreach (string file in Directory.GetFiles(copy))
            {
                try
                {
                    using var s = File.OpenRead(file);
                    intact += ContainerReader.Read(s).Packets.Count;
                }
                catch (EdgeCodecFormatException)
                {
                    // The header itself was cut: the file held no packets yet.
                }
            }

            // Reopen: the receiver recovers exactly the intact packets, then a sender that still holds every frame
            // (the acknowledged ones would be gone in reality; here it re-offers them) completes the store.
            var sender = Sessions.Sender();
            using (var receiver = Sessions.Receiver(copy))
            {
                Assert.Equal(intact, receiver.Statistics.PacketsRecovered);
                await Sessions.EnqueueAllAsync(sender, frames);
                await Sessions.FinishAsync(sender, receiver);
                Assert.Equal(frames.Sum(f => f.Packets.Count) - intact, receiver.Statistics.PacketsApplied);
            }

            Synthetic.AssertStoreHolds(copy, frames);
            Directory.Delete(copy, recursive: true);
        }

        Directory.Delete(original, recursive: true);
    }

    [Fact]
    public async Task Receiver_restarted_mid_stream_resumes_from_its_store_without_reapplying()
    {
        var frames = Synthetic.Frames(new Random(12), 6, 2, 1, 3, 100, 800);
        string store = Synthetic.TempDirectory();
        var sender = Sessions.Sender();
        await Sessions.EnqueueAllAsync(sender, frames.Take(3), complete: false);
        long firstApplied;
        using (var receiver = Sessions.Receiver(store))
        {
            var link = new MemoryLink();
            var s = Sessions.Swallow(sender.RunAsync(link.SenderPipe));
            var r = Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe));
            while (receiver.CompletedFrames.Count < 2)
            {
                await Task.Delay(5);
            }

            link.ReceiverPipe.Input.Complete(new IOException("power cut"));
            link.ReceiverPipe.Output.Complete(new IOException("power cut"));
            await Task.WhenAll(s, r).WaitAsync(TimeSpan.FromSeconds(5));
            firstApplied = receiver.Statistics.PacketsApplied;
        }

        using (var receiver = Sessions.Receiver(store))
        {
            Assert.Equal(firstApplied, receiver.Statistics.PacketsRecovered);
            Assert.True(receiver.ResumeSequence > 0);
            await Sessions.EnqueueAllAsync(sender, frames.Skip(3));
            await Sessions.FinishAsync(sender, receiver);
            Assert.Equal(frames.Sum(f => f.Packets.Count), firstApplied + receiver.Statistics.PacketsApplied);
        }

        Synthetic.AssertStoreHolds(store, frames);
    }
}
