using EdgeCodec.Backends;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>One decoder kept for a run of containers (<see cref="EdgeCodecDecoder.Decode(Stream)"/>) decodes each as a decoder made for it does.</summary>
public sealed class DecoderReuseTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static readonly DecoderOptions Options = new() { Backend = "reference", Threads = 2 };

    [PackFact]
    public void A_kept_decoder_decodes_a_run_of_containers_like_a_new_decoder_for_each()
    {
        var encoded = fixture.Encoded(2);
        byte[] full = encoded.ToContainerBytes();
        var lastBase = ContainerReader.Read(full).Entries[encoded.Header.TileCount - 1];
        byte[] truncated = full.AsSpan(0, (int)(lastBase.Offset + lastBase.Length) + 40).ToArray();
        var small = CodecFixture.Crop(fixture.Image, 17, 9, 100, 70);
        var withResidual = fixture.Pack.QualityLadder.FirstOrDefault(s => s.ResidualStep is not null) ?? new QualitySetting(3, null);
        byte[][] run =
        [
            full,
            fixture.Encoded(0).ToContainerBytes(),
            fixture.Encoder.Encode(small, 3, frameIndex: 4).ToContainerBytes(ContainerLayout.Indexed),
            truncated,
            fixture.Encoder.Encode(fixture.Image, withResidual).ToContainerBytes(),
            full,
        ];

        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options);
        foreach (byte[] container in run)
        {
            var (kept, keptRead) = decoder.Decode(new MemoryStream(container, writable: false));
            var (fresh, freshRead) = EdgeCodecDecoder.Decode(fixture.Pack, new MemoryStream(container, writable: false), Options);
            Assert.Equal(freshRead.Status, keptRead.Status);
            Assert.Equal(fresh.FrameIndex, kept.FrameIndex);
            Assert.Equal((fresh.Image.Width, fresh.Image.Height), (kept.Image.Width, kept.Image.Height));
            Assert.Equal(fresh.LayersPerTile, kept.LayersPerTile);
            Assert.Equal(fresh.IsComplete, kept.IsComplete);
            Assert.Equal(fresh.Image.Pixels, kept.Image.Pixels);
        }

        // The run really varied: sizes, frame indices, completeness and the residual layer all changed along it.
        var frames = run.Select(c => decoder.Decode(new MemoryStream(c, writable: false)).Frame).ToList();
        Assert.Equal(100, frames[2].Image.Width);
        Assert.Equal(4u, frames[2].FrameIndex);
        Assert.False(frames[3].IsComplete);
        Assert.Equal(fixture.Pack.Layout.Groups + (withResidual.ResidualStep is null ? 0 : 1), frames[4].LayersPerTile.Max());
        Assert.NotEqual(frames[0].Image.Pixels, frames[1].Image.Pixels);
    }

    [PackFact]
    public void A_kept_decoder_conceals_a_lost_tile_with_the_mean_not_with_the_last_pictures_latents()
    {
        // Same geometry twice, so the second picture reuses the first one's arrays (the decoder's pool): a tile whose
        // packets never came must decode as a fresh decoder decodes it (zero latents), not as the previous picture.
        var full = fixture.Encoder.Encode(fixture.Image, 3, frameIndex: 1);
        var lossy = fixture.Encoder.Encode(fixture.Image, 1, frameIndex: 2);
        Assert.True(lossy.Header.TileCount > 2);
        var lost = lossy.Packets.Where(p => p.TileIndex != 1 && !(p.TileIndex == 2 && p.Layer >= 1)).ToList();

        using var kept = new EdgeCodecDecoder(fixture.Pack, Options);
        Push(kept, full);
        Assert.True(kept.TryReceiveFrame(out var first));
        Assert.True(first!.IsComplete);
        var second = PushAndFlush(kept, lossy.Header, lost);

        using var fresh = new EdgeCodecDecoder(fixture.Pack, Options);
        var expected = PushAndFlush(fresh, lossy.Header, lost);
        Assert.Equal(0, second.LayersPerTile[1]); // concealed
        Assert.Equal(1, second.LayersPerTile[2]); // base only: its other groups at their means
        Assert.Equal(expected.LayersPerTile, second.LayersPerTile);
        Assert.Equal(expected.Image.Pixels, second.Image.Pixels);
    }

    [PackFact]
    public void A_recycled_picture_is_decoded_into_and_the_next_picture_is_exact()
    {
        byte[] first = fixture.Encoded(3).ToContainerBytes();
        byte[] second = fixture.Encoded(1).ToContainerBytes();
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options);
        var a = decoder.Decode(new MemoryStream(first, writable: false)).Frame;
        byte[] array = a.Image.Pixels;
        decoder.Recycle(a.Image);
        Assert.Throws<InvalidOperationException>(() => decoder.Recycle(a.Image)); // twice: refused

        var b = decoder.Decode(new MemoryStream(second, writable: false)).Frame;
        Assert.Same(array, b.Image.Pixels); // decoded into the recycled array...
        var expected = EdgeCodecDecoder.Decode(fixture.Pack, new MemoryStream(second, writable: false), Options).Frame;
        Assert.Equal(expected.Image.Pixels, b.Image.Pixels); // ...with nothing of the first picture left in it

        // A picture of another size than the stream's is ignored, not decoded into.
        var small = CodecFixture.Crop(fixture.Image, 0, 0, 64, 64);
        decoder.Recycle(small);
        var c = decoder.Decode(new MemoryStream(first, writable: false)).Frame;
        Assert.NotSame(small.Pixels, c.Image.Pixels);
        Assert.NotSame(array, c.Image.Pixels); // b still owns it: it was not handed back
        Assert.Throws<ArgumentNullException>(() => decoder.Recycle(null!));
    }

    [PackFact]
    public void A_bad_container_leaves_the_kept_decoder_usable()
    {
        byte[] good = fixture.Encoded(1).ToContainerBytes();
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options);
        var before = decoder.Decode(new MemoryStream(good, writable: false)).Frame;

        byte[] garbage = new byte[300];
        new Random(44).NextBytes(garbage);
        Assert.Throws<EdgeCodecFormatException>(() => decoder.Decode(new MemoryStream(garbage, writable: false)));

        var after = decoder.Decode(new MemoryStream(good, writable: false)).Frame;
        Assert.Equal(before.Image.Pixels, after.Image.Pixels);
        Assert.True(after.IsComplete);
    }

    [PackFact]
    public void Decoding_a_container_drops_the_frames_pending_from_pushed_packets()
    {
        var pushed = fixture.Encoder.Encode(fixture.Image, 1, frameIndex: 5);
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options);
        Push(decoder, pushed);

        var frame = decoder.Decode(new MemoryStream(fixture.Encoded(2).ToContainerBytes(), writable: false)).Frame;
        Assert.Equal(0u, frame.FrameIndex);
        Assert.False(decoder.TryReceiveFrame(out _)); // frame 5 was complete, and it is gone
    }

    [PackFact]
    public void A_warmed_up_decoder_decodes_exactly_as_a_cold_one_and_keeps_what_was_pending()
    {
        var encoded = fixture.Encoder.Encode(fixture.Image, 2, frameIndex: 3);
        using var cold = new EdgeCodecDecoder(fixture.Pack, Options);
        Push(cold, encoded);

        Assert.True(cold.TryReceiveFrame(out var expected));

        // Half the packets pushed, then a warm-up of another size and tile size, then the rest: the pending frame
        // survives, and the picture is the cold decoder's.
        using var warmed = new EdgeCodecDecoder(fixture.Pack, Options);
        warmed.SetHeader(encoded.Header);
        int half = encoded.Packets.Count / 2;
        foreach (var packet in encoded.Packets.Take(half))
        {
            warmed.SendPacket(packet);
        }

        warmed.WarmUp(200, 130, tileSize: 64);
        warmed.WarmUp(fixture.Image.Width, fixture.Image.Height);
        foreach (var packet in encoded.Packets.Skip(half))
        {
            warmed.SendPacket(packet);
        }

        Assert.True(warmed.TryReceiveFrame(out var frame));
        Assert.Equal(3u, frame!.FrameIndex);
        Assert.Equal(expected!.LayersPerTile, frame.LayersPerTile);
        Assert.Equal(expected.Image.Pixels, frame.Image.Pixels);
    }

    [PackTheory]
    [InlineData(0, 100, 0)]
    [InlineData(100, 16385, 0)]
    [InlineData(100, 100, 100)]
    [InlineData(100, 100, -64)]
    public void Warm_up_refuses_impossible_sizes(int width, int height, int tileSize)
    {
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.WarmUp(width, height, tileSize));
    }

    [PackFact]
    public void Warm_up_respects_the_decoders_pixel_limit()
    {
        using var decoder = new EdgeCodecDecoder(fixture.Pack, new DecoderOptions { Backend = "reference", MaxPixels = 10_000 });
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.WarmUp(200, 100));
        decoder.WarmUp(100, 100);
    }

    [PackFact]
    public void Warm_up_runs_the_synthesis_as_often_as_the_backend_asks()
    {
        int Windows(int runs)
        {
            var counting = new CountingBackend(runs);
            DecoderBackends.Register(counting);
            using var decoder = new EdgeCodecDecoder(fixture.Pack, new DecoderOptions { Backend = counting.Name, Threads = 2 });
            decoder.WarmUp(300, 200, tileSize: 128);
            return counting.Windows;
        }

        int once = Windows(1), twice = Windows(2);
        Assert.True(once > 0);
        Assert.Equal(2 * once, twice); // ONNX Runtime sessions ask for two: their memory pattern is used from the second run
        Assert.Equal(1, DecoderBackends.Get("reference").Create(fixture.Pack, new BackendOptions()).WarmUpRuns);
    }

    /// <summary>The reference synthesis, counting its windows, asking for <paramref name="runs"/> warm-up runs.</summary>
    private sealed class CountingBackend(int runs) : DecoderBackend
    {
        public int Windows;

        public override string Name => $"counting-{runs}";

        public override int Priority => -1;

        public override bool IsAvailable(ModelPack pack, out string reason)
        {
            reason = string.Empty;
            return true;
        }

        public override ISynthesisBackend Create(ModelPack pack, BackendOptions options) =>
            new Synthesis(DecoderBackends.Get("reference").Create(pack, options), this, runs);

        private sealed class Synthesis(ISynthesisBackend inner, CountingBackend owner, int runs) : ISynthesisBackend
        {
            public string Name => owner.Name;

            public bool IsThreadSafe => false;

            public int WarmUpRuns => runs;

            public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb)
            {
                Interlocked.Increment(ref owner.Windows);
                inner.Synthesize(yq, height, width, rgb);
            }

            public void Dispose() => inner.Dispose();
        }
    }

    /// <summary>The push API with some packets lost: the header, the packets that came, end of stream, the frame.</summary>
    private static DecodedFrame PushAndFlush(EdgeCodecDecoder decoder, ContainerHeader header, IEnumerable<LatentPacket> packets)
    {
        decoder.SetHeader(header);
        foreach (var packet in packets)
        {
            decoder.SendPacket(packet);
        }

        decoder.Flush();
        Assert.True(decoder.TryReceiveFrame(out var frame));
        return frame!;
    }

    /// <summary>The push API: the image's header, then every packet.</summary>
    private static void Push(EdgeCodecDecoder decoder, EncodedImage encoded)
    {
        decoder.SetHeader(encoded.Header);
        foreach (var packet in encoded.Packets)
        {
            decoder.SendPacket(packet);
        }
    }
}
