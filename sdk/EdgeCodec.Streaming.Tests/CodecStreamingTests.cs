using System.Net;
using System.Net.Sockets;
using EdgeCodec.Codec;
using EdgeCodec.Format;

namespace EdgeCodec.Streaming.Tests;

public sealed class CodecStreamingTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private StreamSender NewSender() => new(new StreamSenderOptions
    {
        ModelId = fixture.Pack.ModelId, StreamId = Synthetic.StreamId, IdleTimeout = TimeSpan.FromSeconds(5),
    });

    private StreamReceiver NewReceiver(string? store, EdgeCodecDecoder? decoder = null, bool warmUp = false) => new(new StreamReceiverOptions
    {
        ModelId = fixture.Pack.ModelId, StoreDirectory = store, Decoder = decoder, WarmUpDecoder = warmUp, IdleTimeout = TimeSpan.FromSeconds(5),
    });

    /// <summary>Sends one frame over an in-memory link to a receiver that stores it in <paramref name="store"/> and decodes it; returns every display step.</summary>
    private async Task<List<FrameDecodedEventArgs>> DeliverDecoding(EncodedImage frame, string store, DecoderOptions options)
        => (await DeliverDecoding([frame], store, options, warmUp: false)).Decoded;

    /// <summary>Sends frames over an in-memory link to a receiver that stores them (when <paramref name="store"/> is given) and decodes them; returns every display step and the receiver's statistics.</summary>
    private async Task<(List<FrameDecodedEventArgs> Decoded, StreamReceiverStatistics Statistics)> DeliverDecoding(
        IReadOnlyList<EncodedImage> frames, string? store, DecoderOptions options, bool warmUp)
    {
        using var decoder = new EdgeCodecDecoder(fixture.Pack, options);
        var decoded = new List<FrameDecodedEventArgs>();
        var sender = NewSender();
        var receiver = NewReceiver(store, decoder, warmUp);
        using (receiver)
        {
            receiver.FrameDecoded += (_, e) => decoded.Add(e);
            foreach (var frame in frames)
            {
                await sender.EnqueueAsync(frame);
            }

            sender.Complete();
            var link = new MemoryLink();
            var s = sender.RunAsync(link.SenderPipe);
            var r = receiver.RunAsync(link.ReceiverPipe);
            Assert.True(await s);
            await r;
        } // Dispose waits for the display task

        return (decoded, receiver.Statistics);
    }

    [Fact]
    public async Task Real_tcp_on_loopback_with_a_reset_mid_stream_delivers_identical_frames()
    {
        string store = Synthetic.TempDirectory();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var sender = NewSender();
        using var receiver = NewReceiver(store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await sender.EnqueueAsync(fixture.Frames[0], timeout.Token);

        var server = Task.Run(
            async () =>
            {
                for (int session = 0; ; session++)
                {
                    using var socket = await listener.AcceptTcpClientAsync(timeout.Token);
                    await using var stream = socket.GetStream();
                    try
                    {
                        if (await receiver.RunAsync(stream, timeout.Token))
                        {
                            return session;
                        }
                    }
                    catch (IOException)
                    {
                    }
                }
            },
            timeout.Token);

        // Session 1: reset the socket once frame 0 is acknowledged, with frame 1 queued behind it.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var run = Sessions.Swallow(sender.RunAsync(client.GetStream(), timeout.Token));
            while (receiver.CompletedFrames.Count < 1)
            {
                await Task.Delay(5, timeout.Token);
            }

            await sender.EnqueueAsync(fixture.Frames[1], timeout.Token);
            client.Client.LingerState = new LingerOption(true, 0); // RST, not FIN
            client.Close();
            await run;
        }

        sender.Complete();
        // Reconnect until a session ends with BYE: IsFinished alone is not enough, because a session can fail after
        // the last ACK and before the BYE reached the receiver (seen under load), and only BYE ends the receiver's side.
        bool clean = false;
        for (int attempt = 0; !clean; attempt++)
        {
            Assert.True(attempt < 5);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var run = sender.RunAsync(client.GetStream(), timeout.Token);
            clean = await Sessions.Swallow(run) is null && await run;
        }

        Assert.True(await server >= 1);
        receiver.Dispose();
        foreach (var frame in fixture.Frames)
        {
            using var file = File.OpenRead(Path.Combine(store, $"frame-{frame.Packets[0].FrameIndex:D10}.ecx"));
            var read = ContainerReader.Read(file);
            Assert.True(read.IsComplete);
            Assert.Equal(frame.Packets.Count, read.Packets.Count);
            for (int i = 0; i < read.Packets.Count; i++)
            {
                Synthetic.AssertSame(frame.Packets[i], read.Packets[i]);
            }
        }
    }

    [Fact]
    public async Task Progressive_decode_shows_the_base_layer_first_and_ends_equal_to_a_direct_decode()
    {
        string store = Synthetic.TempDirectory();
        var options = new DecoderOptions { Backend = "reference", Threads = 2 };
        var decoded = await DeliverDecoding(fixture.Frames[0], store, options);

        Assert.NotEmpty(decoded);
        Assert.True(decoded[^1].Progress.IsComplete);
        Assert.True(decoded.Select(d => d.Progress.CompleteLayers).SequenceEqual(decoded.Select(d => d.Progress.CompleteLayers).Order()));
        Assert.All(decoded[0].Frame.LayersPerTile, l => Assert.True(l >= 1));

        using var reference = new EdgeCodecDecoder(fixture.Pack, options);
        reference.SetHeader(fixture.Frames[0].Header);
        foreach (var p in fixture.Frames[0].Packets)
        {
            reference.SendPacket(p);
        }

        Assert.Equal(reference.DecodeFrame(0).Image.Pixels, decoded[^1].Frame.Image.Pixels);
    }

    [Fact]
    public async Task The_display_decoder_is_warmed_once_per_picture_size_and_decodes_the_same_pictures()
    {
        // Two frames of 128x96, then one of another size: two warm-ups, and every picture as without them.
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 64 });
        ulong next = (ulong)fixture.Frames.Sum(f => f.Packets.Count);
        var wide = encoder.Encode(CodecFixture.Crop(fixture.Images[0], 0, 0, 96, 64), 1, 0, Synthetic.StreamId, frameIndex: 2, firstSequence: next);
        EncodedImage[] frames = [.. fixture.Frames, wide];

        var options = new DecoderOptions { Backend = "reference", Threads = 2 };
        var (cold, coldStats) = await DeliverDecoding(frames, null, options, warmUp: false);
        var (warmed, warmStats) = await DeliverDecoding(frames, null, options, warmUp: true);
        Assert.Equal(0, coldStats.DecoderWarmUps);
        Assert.Equal(2, warmStats.DecoderWarmUps);
        foreach (uint frame in new uint[] { 0, 1, 2 })
        {
            var a = cold.Last(d => d.Progress.FrameIndex == frame);
            var b = warmed.Last(d => d.Progress.FrameIndex == frame);
            Assert.True(a.Progress.IsComplete && b.Progress.IsComplete);
            Assert.Equal(a.Frame.Image.Pixels, b.Frame.Image.Pixels);
        }
    }

    [Fact]
    public async Task A_stream_with_a_preview_layer_shows_every_tile_first_from_z_alone_and_is_stored_byte_for_byte()
    {
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 64, PreviewLayer = true });
        var frame = encoder.Encode(fixture.Images[0], 1, 0, Synthetic.StreamId, frameIndex: 0, firstSequence: 0);
        Assert.True(frame.Header.PreviewLayer);

        string store = Synthetic.TempDirectory();
        var options = new DecoderOptions { Backend = "reference", Threads = 2 };
        var decoded = await DeliverDecoding(frame, store, options);

        // The header reached the receiver with its flag: the store holds the frame as sent, a version-2 container.
        var read = ContainerReader.Read(File.ReadAllBytes(Path.Combine(store, "frame-0000000000.ecx")));
        Assert.True(read.IsComplete);
        Assert.True(read.Header.PreviewLayer);
        Assert.Equal(frame.Packets.Count, read.Packets.Count);
        for (int i = 0; i < read.Packets.Count; i++)
        {
            Synthetic.AssertSame(frame.Packets[i], read.Packets[i]);
        }

        var direct = EdgeCodecDecoder.Decode(fixture.Pack, new MemoryStream(frame.ToContainerBytes()), options).Frame;
        Assert.True(decoded[^1].Progress.IsComplete);
        Assert.Equal(direct.Image.Pixels, decoded[^1].Frame.Image.Pixels);
    }

    [Fact]
    public async Task A_stream_with_a_residual_layer_is_stored_and_decoded_whole_and_its_cut_store_shows_the_groups()
    {
        // The pack's first ladder setting with a residual layer, on a real frame: one more packet per tile, last.
        var setting = fixture.Pack.QualityLadder.First(s => s.ResidualStep is not null);
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 64 });
        var frame = encoder.Encode(fixture.Images[0], setting, 0, Synthetic.StreamId, frameIndex: 0, firstSequence: 0);
        int groups = fixture.Pack.Layout.Groups;
        Assert.Equal(groups + 1, frame.Header.LayerCount);

        string store = Synthetic.TempDirectory();
        var options = new DecoderOptions { Backend = "reference", Threads = 2 };
        var decoded = await DeliverDecoding(frame, store, options);

        string path = Path.Combine(store, "frame-0000000000.ecx");
        byte[] stored = File.ReadAllBytes(path);
        using (var file = new MemoryStream(stored, writable: false))
        {
            var read = ContainerReader.Read(file);
            Assert.True(read.IsComplete);
            Assert.Equal(frame.Packets.Count, read.Packets.Count);
            for (int i = 0; i < read.Packets.Count; i++)
            {
                Synthetic.AssertSame(frame.Packets[i], read.Packets[i]);
            }
        }

        var direct = EdgeCodecDecoder.Decode(fixture.Pack, new MemoryStream(frame.ToContainerBytes()), options).Frame;
        var plain = EdgeCodecDecoder.Decode(fixture.Pack, new MemoryStream(frame.ToContainerBytes()), new DecoderOptions { Backend = "reference", Threads = 2, MaxLayers = groups }).Frame;
        Assert.True(decoded[^1].Progress.IsComplete);
        Assert.Equal(direct.Image.Pixels, decoded[^1].Frame.Image.Pixels);
        Assert.NotEqual(plain.Image.Pixels, direct.Image.Pixels); // the layer changed the picture

        // A store cut inside the residual layer (its first packet half written) shows every tile's groups, exactly.
        int groupBytes = ContainerHeader.Size + frame.Packets.Where(p => p.Layer < groups).Sum(p => PacketFraming.ToArray(p).Length);
        int cutAt = groupBytes + (PacketFraming.ToArray(frame.Packets.First(p => p.Layer == groups)).Length / 2);
        var cut = EdgeCodecDecoder.Decode(fixture.Pack, new MemoryStream(stored[..cutAt]), options).Frame;
        Assert.All(cut.LayersPerTile, n => Assert.Equal(groups, n));
        Assert.Equal(plain.Image.Pixels, cut.Image.Pixels);
    }

    [Fact]
    public async Task A_stalled_display_drops_its_oldest_steps_and_loses_nothing_stored()
    {
        string store = Synthetic.TempDirectory();
        var options = new DecoderOptions { Backend = "reference", Threads = 2 };
        using var decoder = new EdgeCodecDecoder(fixture.Pack, options);
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        var decoded = new List<FrameDecodedEventArgs>();
        int steps = 0;
        var sender = NewSender();
        var receiverOptions = new StreamReceiverOptions
        {
            ModelId = fixture.Pack.ModelId, StoreDirectory = store, Decoder = decoder, MaxQueuedDisplaySteps = 1,
        };
        using (var receiver = new StreamReceiver(receiverOptions))
        {
            receiver.FrameProgress += (_, _) => Interlocked.Increment(ref steps);
            receiver.FrameDecoded += (_, e) =>
            {
                decoded.Add(e);
                entered.Release();
                Assert.True(release.Wait(TimeSpan.FromSeconds(30))); // the display stalls on its first picture
            };
            var link = new MemoryLink();
            await sender.EnqueueAsync(fixture.Frames[0]);
            var s = sender.RunAsync(link.SenderPipe);
            var r = receiver.RunAsync(link.ReceiverPipe);
            Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)));
            await sender.EnqueueAsync(fixture.Frames[1]); // every step of frame 1 arrives while the display is stalled
            sender.Complete();
            Assert.True(await s);
            await r;

            int frame1Steps = fixture.Frames[1].Header.LayerCount;
            Assert.True(frame1Steps >= 2);
            Assert.True(receiver.Statistics.DisplayStepsDropped >= frame1Steps - 1); // a queue of one keeps only the newest
            Assert.Equal(2, receiver.CompletedFrames.Count); // storing and acknowledging never waited for the display
            release.Set();
        } // Dispose waits for the display task

        Assert.True(decoded.Count + 1 < steps);
        Assert.Equal(1u, decoded[^1].Progress.FrameIndex);
        Assert.True(decoded[^1].Progress.IsComplete);
        using var reference = new EdgeCodecDecoder(fixture.Pack, options);
        reference.SetHeader(fixture.Frames[1].Header);
        foreach (var p in fixture.Frames[1].Packets)
        {
            reference.SendPacket(p);
        }

        Assert.Equal(reference.DecodeFrame(1).Image.Pixels, decoded[^1].Frame.Image.Pixels);
    }

    [Fact]
    public async Task Store_cut_inside_a_frame_decodes_what_survived()
    {
        string store = Synthetic.TempDirectory();
        var sender = NewSender();
        using (var receiver = NewReceiver(store))
        {
            await sender.EnqueueAsync(fixture.Frames[1]);
            sender.Complete();
            var link = new MemoryLink();
            var s = sender.RunAsync(link.SenderPipe);
            await receiver.RunAsync(link.ReceiverPipe);
            Assert.True(await s);
        }

        string path = Path.Combine(store, "frame-0000000001.ecx");
        byte[] bytes = await File.ReadAllBytesAsync(path);
        var frame = fixture.Frames[1];
        int baseBytes = ContainerHeader.Size + frame.Packets.Where(p => p.Layer == 0).Sum(p => PacketFraming.ToArray(p).Length);
        int cut = baseBytes + ((bytes.Length - baseBytes) / 3);
        await File.WriteAllBytesAsync(path, bytes.AsSpan(0, cut).ToArray());
        using var stream = File.OpenRead(path);
        var (picture, read) = EdgeCodecDecoder.Decode(fixture.Pack, stream, new DecoderOptions { Backend = "reference", Threads = 2 });
        Assert.False(read.IsComplete);
        Assert.Empty(picture.MissingTiles);
        Assert.False(picture.IsComplete);
        Assert.Equal(fixture.Images[1].Width, picture.Image.Width);
    }
}
