using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeCodec.Codec;
using Xunit.Abstractions;

namespace EdgeCodec.Streaming.Tests.Benchmarks;

/// <summary>Skipped unless <c>EDGECODEC_STREAMING_BENCH=1</c>; prints the numbers for docs/benchmarks.md. Asserts nothing.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("EDGECODEC_STREAMING_BENCH") != "1")
        {
            Skip = "benchmark: set EDGECODEC_STREAMING_BENCH=1";
        }
    }
}

public sealed class StreamingBenchmarks(CodecFixture fixture, ITestOutputHelper output) : IClassFixture<CodecFixture>
{
    [BenchFact]
    public async Task Framing_overhead_of_real_frames()
    {
        var sender = new StreamSender(new StreamSenderOptions { ModelId = fixture.Pack.ModelId, StreamId = Synthetic.StreamId });
        using var receiver = new StreamReceiver(new StreamReceiverOptions { ModelId = fixture.Pack.ModelId });
        foreach (var f in fixture.Frames)
        {
            await sender.EnqueueAsync(f);
        }

        sender.Complete();
        await Sessions.FinishAsync(sender, receiver);
        var st = sender.Statistics;
        long payload = fixture.Frames.Sum(f => f.PayloadBytes);
        long packetFrames = fixture.Frames.Sum(f => f.Packets.Sum(p => (long)EdgeCodec.Format.PacketFraming.ToArray(p).Length));
        int packets = fixture.Frames.Sum(f => f.Packets.Count);
        output.WriteLine($"real frames: {fixture.Frames.Count} x {fixture.Frames[0].Header.Width}x{fixture.Frames[0].Header.Height}, {packets} packets, payload {payload} B (mean {payload / packets} B/packet)");
        output.WriteLine($"sender bytes (HELLO+HEADER+LATENT+KEEPALIVE+BYE): {st.BytesSent} B, overhead {(st.BytesSent - payload) * 100.0 / payload:0.00}%");
        output.WriteLine($"of which packet envelope (format.md framing): {packetFrames - payload} B = {(packetFrames - payload) * 100.0 / payload:0.00}%; session wrapper: {st.BytesSent - packetFrames} B");
        foreach (int size in new[] { 256, 1024, 4096, 16384 })
        {
            var frames = Synthetic.Frames(new Random(1), 1, 4, 4, 4, size, size);
            long wire = frames[0].Packets.Sum(p => (long)Protocol.MessageCodec.SerializePacketBody(p).Length + 4);
            long compact = frames[0].Packets.Sum(CompactWireBytes);
            long bytes = frames[0].Packets.Sum(p => (long)p.Payload.Length);
            int n = frames[0].Packets.Count;
            output.WriteLine($"synthetic {size} B payloads: LATENT overhead {(wire - bytes) * 100.0 / bytes:0.00}% ({(wire - bytes) / n} B/packet), "
                + $"LATENT_COMPACT {(compact - bytes) * 100.0 / bytes:0.00}% ({(compact - bytes) / n} B/packet)");
        }

        // Real frames at the default 256-pixel tiles: the Kodak-size sample photo at every quality level.
        var photo = EdgeCodec.Imaging.ImageFile.Load(Path.Combine(CodecFixture.RepositoryRoot(), "samples", "media", "astronaut.png"));
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2 });
        for (int q = 0; q < fixture.Pack.QualityLevels.Count; q++)
        {
            var encoded = encoder.Encode(photo, q);
            long bytes = encoded.PayloadBytes;
            long wire = encoded.Packets.Sum(p => (long)Protocol.MessageCodec.SerializePacketBody(p).Length + 4);
            long compact = encoded.Packets.Sum(CompactWireBytes);
            output.WriteLine($"astronaut 512x512 q{q}: {encoded.Packets.Count} packets, mean {bytes / encoded.Packets.Count} B payload; "
                + $"LATENT {(wire - bytes) * 100.0 / bytes:0.00}%, LATENT_COMPACT {(compact - bytes) * 100.0 / bytes:0.00}%");
        }
    }

    private static long CompactWireBytes(EdgeCodec.Format.LatentPacket p)
    {
        byte[] message = Protocol.MessageCodec.SerializeCompactLatent(p, Protocol.MessageCodec.SerializePacketBody(p));
        return message.Length + EdgeCodec.Format.Varint.Length((uint)message.Length);
    }

    [BenchFact]
    public async Task Loopback_tcp_throughput()
    {
        var rows = new (int Size, int Count, bool Store, StoreDurability Durability)[]
        {
            (1024, 20000, false, default), (16384, 4000, false, default), (16384, 4000, true, StoreDurability.ProcessCrash),
            (16384, 4000, true, StoreDurability.PowerLoss), (1024, 20000, true, StoreDurability.ProcessCrash),
            (1024, 20000, true, StoreDurability.PowerLoss),
        };
        foreach (var (size, count, store, durability) in rows)
        {
            var frames = Synthetic.Frames(new Random(2), count / 16, 4, 4, 1, size, size);
            string? dir = store ? Synthetic.TempDirectory() : null;
            var sender = new StreamSender(new StreamSenderOptions
            {
                ModelId = Synthetic.ModelId, StreamId = Synthetic.StreamId, RetransmitBufferBytes = 1L << 30,
                RateController = new DefaultRateController(initialRate: 200e6),
            });
            using var receiver = new StreamReceiver(new StreamReceiverOptions { ModelId = Synthetic.ModelId, StoreDirectory = dir, Durability = durability });
            foreach (var f in frames)
            {
                await sender.EnqueueAsync(f.Header, f.Packets);
            }

            sender.Complete();
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var server = Task.Run(async () =>
            {
                using var socket = await listener.AcceptTcpClientAsync();
                return await receiver.RunAsync(socket.GetStream());
            });
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var clock = Stopwatch.StartNew();
            await sender.RunAsync(client.GetStream());
            await server;
            double seconds = clock.Elapsed.TotalSeconds;
            long packets = frames.Sum(f => f.Packets.Count);
            long payload = frames.Sum(f => f.Packets.Sum(p => (long)p.Payload.Length));
            var rst = receiver.Statistics;
            output.WriteLine($"{size} B payloads, store {(store ? durability.ToString() : "off")}: {packets} packets in {seconds:0.000} s = {packets / seconds:0} packets/s, "
                + $"{payload / seconds / 1e6:0.0} MB/s payload; {rst.AcksSent} ACKs, {rst.StoreSyncs} disk syncs");
            if (dir is not null)
            {
                receiver.Dispose();
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [BenchFact]
    public async Task Base_layer_to_first_display()
    {
        foreach (string backend in new[] { "reference", "onnx" })
        {
            using var decoder = new EdgeCodecDecoder(fixture.Pack, new DecoderOptions { Backend = backend, Threads = 2 });
            var baseAt = new Dictionary<uint, long>();
            var shownAfter = new List<double>();
            var sender = new StreamSender(new StreamSenderOptions { ModelId = fixture.Pack.ModelId, StreamId = Synthetic.StreamId });
            using (var receiver = new StreamReceiver(new StreamReceiverOptions { ModelId = fixture.Pack.ModelId, Decoder = decoder }))
            {
                receiver.FrameProgress += (_, e) =>
                {
                    if (e.Kind == FrameProgressKind.BaseLayerComplete)
                    {
                        lock (baseAt)
                        {
                            baseAt[e.FrameIndex] = Stopwatch.GetTimestamp();
                        }
                    }
                };
                receiver.FrameDecoded += (_, e) =>
                {
                    lock (baseAt)
                    {
                        if (baseAt.Remove(e.Progress.FrameIndex, out long t))
                        {
                            shownAfter.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                        }
                    }
                };
                foreach (var f in fixture.Frames)
                {
                    await sender.EnqueueAsync(f);
                }

                sender.Complete();
                await Sessions.FinishAsync(sender, receiver);
            }

            output.WriteLine($"{backend}: base layer complete -> first display (decode on the display task): {string.Join(", ", shownAfter.Select(m => $"{m:0} ms"))} for {fixture.Frames[0].Header.Width}x{fixture.Frames[0].Header.Height} frames");
        }
    }

    [BenchFact]
    public async Task Base_layer_to_first_display_with_a_warmed_decoder_on_a_slow_link()
    {
        // One 600x400 picture (256-px tiles, level 3) over a 40 kB/s link: the HEADER arrives ~0.2 s before the base
        // layer is complete, time the warm-up can use.
        var photo = Imaging.ImageFile.Load(Path.Combine(CodecFixture.RepositoryRoot(), "samples", "media", "coffee.png"));
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 256 });
        var frame = encoder.Encode(photo, 3, 0, Synthetic.StreamId, frameIndex: 0, firstSequence: 0);
        Backends.Cpu.CpuBackend.Register(); // the integer SIMD engine a device decodes on
        foreach (string backend in new[] { "cpu", "onnx", "reference" })
        {
            foreach (bool warm in new[] { false, true })
            {
                using var decoder = new EdgeCodecDecoder(fixture.Pack, new DecoderOptions { Backend = backend, Threads = 2 });
                long baseAt = 0;
                double shownAfter = double.NaN;
                var sender = new StreamSender(new StreamSenderOptions { ModelId = fixture.Pack.ModelId, StreamId = Synthetic.StreamId });
                using (var receiver = new StreamReceiver(new StreamReceiverOptions { ModelId = fixture.Pack.ModelId, Decoder = decoder, WarmUpDecoder = warm }))
                {
                    receiver.FrameProgress += (_, e) =>
                    {
                        if (e.Kind == FrameProgressKind.BaseLayerComplete)
                        {
                            Volatile.Write(ref baseAt, Stopwatch.GetTimestamp());
                        }
                    };
                    receiver.FrameDecoded += (_, e) =>
                    {
                        if (double.IsNaN(shownAfter))
                        {
                            shownAfter = Stopwatch.GetElapsedTime(Volatile.Read(ref baseAt)).TotalMilliseconds;
                        }
                    };
                    await sender.EnqueueAsync(frame);
                    sender.Complete();
                    using var link = new LinkEmulator(new LinkProfile { BandwidthTrace = [(double.MaxValue, 40e3)], LatencyMs = 20 }, seed: 1).Connect(0);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                    var s = sender.RunAsync(link.SenderSide, timeout.Token);
                    var r = receiver.RunAsync(link.ReceiverSide, timeout.Token);
                    Assert.True(await s);
                    await r;
                    receiver.Dispose();
                    output.WriteLine($"{backend}, warm-up {(warm ? "on" : "off")}: base layer complete -> first display {shownAfter:0} ms "
                        + $"({frame.Header.Width}x{frame.Header.Height}, {frame.PayloadBytes} payload bytes, {receiver.Statistics.DecoderWarmUps} warm-ups)");
                }
            }
        }
    }
}
