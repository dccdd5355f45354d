using EdgeCodec.Format;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Streaming.Tests;

/// <summary>
/// <see cref="StoreDurability.PowerLoss"/>: the store syncs to the device before acknowledging, once per ACK and only
/// what changed. (That the device really keeps the bytes through a power cut needs the hardware; these tests check that
/// the syncs happen where the acknowledgements need them and nowhere else.)
/// </summary>
public sealed class StoreDurabilityTests
{
    private static StreamReceiver Receiver(string store, StoreDurability durability) => new(new StreamReceiverOptions
    {
        ModelId = Synthetic.ModelId, StoreDirectory = store, Durability = durability,
        KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
    });

    [Fact]
    public void A_sync_writes_what_changed_since_the_last_one_and_nothing_else()
    {
        var frames = Synthetic.Frames(new Random(21), 3, 2, 1, 2, 10, 200);
        var header = ContainerHeader.Create(Synthetic.ModelId, 128, 64, 64, 64, 2, frameCount: 0); // one frame per file, as the receiver writes
        string dir = Synthetic.TempDirectory();
        using (var store = new ReceiverStore(dir, maxOpenFiles: 2, StoreDurability.PowerLoss))
        {
            store.Sync();
            Assert.Equal(0, store.Syncs); // nothing written yet

            store.Append(0, header, frames[0].Packets[0]);
            store.Append(1, header, frames[1].Packets[0]);
            store.Sync();
            Assert.Equal(1, store.Syncs); // two new files and their folder: one sync
            store.Sync();
            Assert.Equal(1, store.Syncs);

            store.Append(0, header, frames[0].Packets[1]);
            store.Append(2, header, frames[2].Packets[0]); // a third file closes frame 1's (2 open at most)
            Assert.Equal(1, store.Syncs); // frame 1's file was synced already: closing it needs no sync
            store.Append(1, header, frames[1].Packets[1]); // reopens frame 1, closes frame 0 (unsynced)
            Assert.Equal(2, store.Syncs);
            store.Sync();
            Assert.Equal(3, store.Syncs);
        }

        using (var store = new ReceiverStore(dir, maxOpenFiles: 2, StoreDurability.ProcessCrash))
        {
            Assert.Equal(3, store.Recover().Count());
            store.Append(2, header, frames[2].Packets[1]);
            store.Sync();
            Assert.Equal(0, store.Syncs);
        }

        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData(StoreDurability.ProcessCrash)]
    [InlineData(StoreDurability.PowerLoss)]
    public async Task A_session_syncs_at_most_once_per_acknowledgement_and_stores_the_same(StoreDurability durability)
    {
        var frames = Synthetic.Frames(new Random(22), 5, 2, 2, 3, 50, 900);
        string dir = Synthetic.TempDirectory();
        var sender = Sessions.Sender();
        using (var receiver = Receiver(dir, durability))
        {
            await Sessions.EnqueueAllAsync(sender, frames);
            await Sessions.FinishAsync(sender, receiver);
            var st = receiver.Statistics;
            Assert.Equal(frames.Sum(f => f.Packets.Count), st.PacketsApplied);
            if (durability == StoreDurability.PowerLoss)
            {
                Assert.InRange(st.StoreSyncs, 1, st.AcksSent + 1 + st.FramesCompleted); // ACKs, HELLO's ACK, closed files
            }
            else
            {
                Assert.Equal(0, st.StoreSyncs);
            }
        }

        Synthetic.AssertStoreHolds(dir, frames);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Packets_of_a_frame_still_open_are_synced_before_their_acknowledgement()
    {
        // No frame completes, so no file is closed: any sync comes from the acknowledgements.
        var frame = Synthetic.Frames(new Random(24), 1, 2, 1, 2, 50, 400)[0];
        var header = ContainerHeader.Create(Synthetic.ModelId, 128, 64, 64, 64, 2, frameCount: 0);
        var messages = new List<Message> { new HeaderMessage { StreamId = Synthetic.StreamId, FrameIndex = 0, Header = header } };
        messages.AddRange(frame.Packets.Take(3).Select(p => new LatentMessage(p)));
        foreach (var durability in new[] { StoreDurability.ProcessCrash, StoreDurability.PowerLoss })
        {
            string dir = Synthetic.TempDirectory();
            using (var receiver = Receiver(dir, durability))
            {
                StreamReceiverStatistics? acknowledged = null;
                await Sessions.RunRawSenderAsync(receiver, messages, afterMessage: async i =>
                {
                    if (i == messages.Count - 1)
                    {
                        // Wait for the ACK of the last packet (before BYE, after which nothing is acknowledged).
                        for (int wait = 0; wait < 500 && receiver.Statistics.PacketsApplied < 3; wait++)
                        {
                            await Task.Delay(10);
                        }

                        for (int wait = 0; wait < 500 && (acknowledged = receiver.Statistics).AcksSent == 0; wait++)
                        {
                            await Task.Delay(10);
                        }
                    }
                });
                Assert.NotNull(acknowledged);
                Assert.Equal(3, acknowledged.PacketsApplied);
                Assert.Equal(0, acknowledged.FramesCompleted);
                Assert.True(acknowledged.AcksSent >= 1);
                if (durability == StoreDurability.PowerLoss)
                {
                    Assert.InRange(acknowledged.StoreSyncs, 1, acknowledged.AcksSent + 1); // ACKs and HELLO's ACK
                }
                else
                {
                    Assert.Equal(0, acknowledged.StoreSyncs);
                }
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_recovered_store_is_synced_before_the_first_acknowledgement_announces_it()
    {
        var frames = Synthetic.Frames(new Random(23), 4, 2, 1, 2, 50, 400);
        string dir = Synthetic.TempDirectory();
        var first = Sessions.Sender();
        using (var receiver = Receiver(dir, StoreDurability.ProcessCrash))
        {
            await Sessions.EnqueueAllAsync(first, frames.Take(2));
            await Sessions.FinishAsync(first, receiver);
        }

        var second = Sessions.Sender();
        using (var receiver = Receiver(dir, StoreDurability.PowerLoss))
        {
            Assert.Equal(frames.Take(2).Sum(f => f.Packets.Count), receiver.Statistics.PacketsRecovered);
            Assert.Equal(2, receiver.Statistics.StoreSyncs); // each recovered file, before HELLO's ACK can announce it
            await Sessions.EnqueueAllAsync(second, frames);
            await Sessions.FinishAsync(second, receiver);
            Assert.True(receiver.Statistics.StoreSyncs >= 1);
        }

        Synthetic.AssertStoreHolds(dir, frames);
        Directory.Delete(dir, recursive: true);
    }
}

/// <summary>A full disk (an SD card that filled up): the session fails clearly, and nothing stored or acknowledged is lost.</summary>
public sealed class StoreDiskFullTests
{
    [Fact]
    public async Task A_full_disk_fails_the_session_and_after_space_is_freed_the_same_receiver_completes_every_file()
    {
        var frames = Synthetic.Frames(new Random(31), 4, 2, 2, 2, 300, 1500);
        long total = frames.Sum(f => f.Packets.Sum(p => (long)p.Payload.Length));
        string dir = Synthetic.TempDirectory();
        var disk = new PretendDisk(total / 2);
        var sender = Sessions.Sender();
        await Sessions.EnqueueAllAsync(sender, frames);
        using (var receiver = new StreamReceiver(new StreamReceiverOptions
        {
            ModelId = Synthetic.ModelId, StoreDirectory = dir, Durability = StoreDurability.PowerLoss,
            KeepAliveInterval = TimeSpan.FromMilliseconds(100), IdleTimeout = TimeSpan.FromSeconds(3),
            StoreFileOpener = path => new DiskFullFileStream(path, disk),
        }))
        {
            var link = new MemoryLink();
            var s = Sessions.Swallow(sender.RunAsync(link.SenderPipe));
            var error = await Sessions.Swallow(receiver.RunAsync(link.ReceiverPipe));
            await s;
            var full = Assert.IsType<IOException>(error);
            Assert.Contains("The store could not", full.Message);
            Assert.Contains("No space left on device", full.Message);
            long stored = receiver.Statistics.PacketsApplied;
            Assert.InRange(stored, 1, frames.Sum(f => f.Packets.Count) - 1);

            // The files hold exactly what was applied, each a valid prefix (a cut packet at most at the end).
            Assert.Equal(stored, ReadAll(dir));

            disk.Free = long.MaxValue;
            await Sessions.FinishAsync(sender, receiver);
            Assert.Equal(frames.Sum(f => f.Packets.Count), receiver.Statistics.PacketsApplied);
        }

        Synthetic.AssertStoreHolds(dir, frames);
        using (var recovered = Sessions.Receiver(dir))
        {
            Assert.Equal(frames.Sum(f => f.Packets.Count), recovered.Statistics.PacketsRecovered);
        }

        Directory.Delete(dir, recursive: true);
    }

    private static long ReadAll(string dir)
    {
        long packets = 0;
        foreach (string path in Directory.GetFiles(dir, "*.ecx"))
        {
            try
            {
                using var stream = File.OpenRead(path);
                packets += ContainerReader.Read(stream).Packets.Count;
            }
            catch (EdgeCodecFormatException)
            {
                // A header cut by the full disk: no packets.
            }
        }

        return packets;
    }
}
