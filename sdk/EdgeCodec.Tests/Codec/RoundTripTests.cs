using System.Security.Cryptography;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

public sealed class RoundTripTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static DecodedFrame Decode(CodecFixture f, byte[] container, string backend = "reference", int threads = 1, int layers = 0)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(f.Pack, ms, new DecoderOptions { Backend = backend, Threads = threads, MaxLayers = layers }).Frame;
    }

    [PackFact]
    public void Encoding_is_deterministic()
    {
        byte[] a = fixture.Encoder.Encode(fixture.Image, 1).ToContainerBytes();
        byte[] b = fixture.Encoder.Encode(fixture.Image, 1).ToContainerBytes();
        Assert.Equal(SHA256.HashData(a), SHA256.HashData(b));
    }

    [PackFact]
    public void Reference_decode_is_identical_across_runs_and_thread_counts()
    {
        byte[] container = fixture.Encoded(2).ToContainerBytes();
        var one = Decode(fixture, container, threads: 1);
        var two = Decode(fixture, container, threads: 2);
        var again = Decode(fixture, container, threads: 2);
        Assert.True(one.IsComplete);
        Assert.Equal(fixture.Image.Width, one.Image.Width);
        Assert.Equal(fixture.Image.Height, one.Image.Height);
        Assert.Equal(one.Image.Pixels, two.Image.Pixels);
        Assert.Equal(one.Image.Pixels, again.Image.Pixels);
    }

    [PackFact]
    public void One_tile_shared_by_two_threads_encodes_and_decodes_like_one_thread()
    {
        // With fewer tiles than threads the tile's hyper decoder and context models get the spare threads;
        // bits and pixels must not depend on that.
        using var one = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 1, TileSize = 1024 });
        using var two = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 1024 });
        var encoded = one.Encode(fixture.Image, 2);
        Assert.Equal(1, encoded.Header.TileCount);
        byte[] container = encoded.ToContainerBytes();
        Assert.Equal(container, two.Encode(fixture.Image, 2).ToContainerBytes());
        Assert.Equal(Decode(fixture, container, threads: 1).Image.Pixels, Decode(fixture, container, threads: 2).Image.Pixels);
    }

    [PackFact]
    public void A_later_frame_writes_a_valid_container_that_decodes_like_frame_zero()
    {
        // Regression: a camera's second frame (frame index 1) could not be written as a container, which stalled
        // CameraUplink's producer after the first frame.
        var first = fixture.Encoder.Encode(fixture.Image, 1);
        var later = fixture.Encoder.Encode(fixture.Image, 1, frameIndex: 7, firstSequence: 1000);
        byte[] container = later.ToContainerBytes();
        var decoded = Decode(fixture, container);
        Assert.Equal(7u, decoded.FrameIndex);
        Assert.True(decoded.IsComplete);
        Assert.Equal(Decode(fixture, first.ToContainerBytes()).Image.Pixels, decoded.Image.Pixels);
    }

    [PackFact]
    public void Decoded_image_resembles_the_source()
    {
        var frame = Decode(fixture, fixture.Encoded(3).ToContainerBytes());
        double psnr = CodecFixture.Psnr(fixture.Image, frame.Image);
        // A constant grey image scores ~10 dB on this photo; any working codec is far above.
        Assert.True(psnr > 18, $"PSNR {psnr:F2} dB");
    }

    [PackFact]
    public void Higher_quality_levels_spend_more_bits()
    {
        long previous = 0;
        for (int q = 0; q < fixture.Pack.QualityLevels.Count; q += 2)
        {
            long bytes = fixture.Encoded(q).PayloadBytes;
            Assert.True(bytes > previous, $"quality {q}: {bytes} bytes, previous {previous}");
            previous = bytes;
        }
    }

    [PackFact]
    public void Prefix_decoding_improves_with_every_layer()
    {
        byte[] container = fixture.Encoded(3).ToContainerBytes();
        double previous = double.NegativeInfinity;
        for (int layers = 1; layers <= fixture.Pack.Layout.Groups; layers++)
        {
            var frame = Decode(fixture, container, layers: layers);
            Assert.All(frame.LayersPerTile, l => Assert.Equal(layers, l));
            double psnr = CodecFixture.Psnr(fixture.Image, frame.Image);
            Assert.True(psnr > previous, $"{layers} layers: {psnr:F2} dB, {layers - 1} layers: {previous:F2} dB");
            previous = psnr;
        }
    }

    [PackFact]
    public void Both_layouts_decode_to_the_same_picture_and_compact_is_smaller_by_the_framing()
    {
        var encoded = fixture.Encoded(2);
        byte[] compact = encoded.ToContainerBytes(), indexed = encoded.ToContainerBytes(ContainerLayout.Indexed);
        Assert.Equal(Decode(fixture, indexed).Image.Pixels, Decode(fixture, compact).Image.Pixels);

        // Same entropy-coded bytes; the difference is the indexed layout's per-packet fields, index and footer.
        int packets = encoded.Packets.Count;
        Assert.InRange(indexed.Length - compact.Length, 20 + (40 * packets), 30 + (52 * packets));
        Assert.Equal(encoded.PayloadBytes, ContainerReader.Read(compact).Packets.Sum(p => (long)p.Payload.Length));
    }

    [PackFact]
    public void Fewer_encoded_layers_equal_a_prefix_of_the_full_stream()
    {
        var partial = Decode(fixture, fixture.Encoded(2, layers: 2).ToContainerBytes());
        var prefix = Decode(fixture, fixture.Encoded(2).ToContainerBytes(), layers: 2);
        Assert.Equal(prefix.Image.Pixels, partial.Image.Pixels);
    }

    [PackTheory]
    [InlineData(ContainerLayout.Compact)]
    [InlineData(ContainerLayout.Indexed)]
    public void A_container_trimmed_to_k_layers_is_the_encoders_k_layer_file_byte_for_byte(ContainerLayout layout)
    {
        byte[] full = fixture.Encoded(2).ToContainerBytes(layout);
        var read = ContainerReader.Read(full);
        Assert.Equal(layout, read.Layout);
        for (int k = 1; k <= read.Header.LayerCount; k++)
        {
            using var trimmed = new MemoryStream();
            int packets = ContainerWriter.WriteLayerPrefix(read, k, trimmed);
            Assert.Equal(read.Header.TileCount * k, packets);
            Assert.Equal(fixture.Encoded(2, layers: k).ToContainerBytes(layout), trimmed.ToArray());
            Assert.True(Decode(fixture, trimmed.ToArray()).IsComplete);
        }

        // A download cut inside the last layer still trims to a whole base-layer file.
        var cut = ContainerReader.Read(full.AsMemory(0, full.Length - 40));
        Assert.False(cut.IsComplete);
        using var baseOnly = new MemoryStream();
        ContainerWriter.WriteLayerPrefix(cut, 1, baseOnly);
        Assert.Equal(fixture.Encoded(2, layers: 1).ToContainerBytes(layout), baseOnly.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => ContainerWriter.WriteLayerPrefix(read, 0, Stream.Null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContainerWriter.WriteLayerPrefix(read, read.Header.LayerCount + 1, Stream.Null));
    }

    [PackFact]
    public void A_container_trimmed_to_a_byte_budget_keeps_the_most_layers_that_fit()
    {
        var read = ContainerReader.Read(fixture.Encoded(3).ToContainerBytes());
        var sizes = Enumerable.Range(1, read.Header.LayerCount).Select(k => (long)fixture.Encoded(3, layers: k).ToContainerBytes().Length).ToArray();
        for (int k = 1; k <= read.Header.LayerCount; k++)
        {
            foreach (long budget in new[] { sizes[k - 1], k < sizes.Length ? sizes[k] - 1 : long.MaxValue })
            {
                using var trimmed = new MemoryStream();
                Assert.Equal(k, ContainerWriter.WriteLayerPrefixWithin(read, budget, trimmed));
                Assert.Equal(fixture.Encoded(3, layers: k).ToContainerBytes(), trimmed.ToArray());
            }
        }

        using var none = new MemoryStream();
        Assert.Equal(0, ContainerWriter.WriteLayerPrefixWithin(read, sizes[0] - 1, none));
        Assert.Equal(0, none.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => ContainerWriter.WriteLayerPrefixWithin(read, 0, Stream.Null));
    }

    [PackFact]
    public void Onnx_backends_stay_within_tolerance_of_the_integer_reference()
    {
        byte[] container = fixture.Encoded(2).ToContainerBytes();
        var reference = Decode(fixture, container);
        foreach (string backend in new[] { "onnx", "onnx-fp32" })
        {
            var frame = Decode(fixture, container, backend);
            Assert.Equal(backend, frame.Backend);
            double meanAbs = reference.Image.Pixels.Zip(frame.Image.Pixels, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(meanAbs < 1.5, $"{backend}: mean |difference| {meanAbs:F3}");
            Assert.True(CodecFixture.Psnr(reference.Image, frame.Image) > 35, backend);
        }
    }

    [PackTheory]
    [InlineData(0)]    // one window per tile
    [InlineData(256)]  // 2x2-tile regions: a full block and a narrower one at the right edge
    [InlineData(768)]  // the default: one region for this 3x2-tile image
    public void Tiled_decode_matches_across_tile_borders_without_seams(int synthesisRegion)
    {
        // The same stream decoded whole-image (one synthesis window, no halo) and by tiles or regions of tiles must
        // agree exactly: the halo covers the synthesis receptive field.
        var encoded = fixture.Encoded(2);
        Assert.True(encoded.Header.TileCount > 1);
        using var ms = new MemoryStream(encoded.ToContainerBytes(), writable: false);
        var options = new DecoderOptions { Backend = "reference", Threads = 1, SynthesisRegion = synthesisRegion };
        var tiled = EdgeCodecDecoder.Decode(fixture.Pack, ms, options).Frame;
        Assert.Equal(tiled.Image.Pixels, DecodeWithOneWindow(fixture, encoded).Pixels);
    }

    private static RgbImage DecodeWithOneWindow(CodecFixture f, EncodedImage encoded)
    {
        using var ms = new MemoryStream(encoded.ToContainerBytes(), writable: false);
        var read = ContainerReader.Read(ms);
        using var decoder = new EdgeCodecDecoder(f.Pack, new DecoderOptions { Backend = "reference", Threads = 1 });
        decoder.SetHeader(read.Header);
        foreach (var p in read.Packets)
        {
            decoder.SendPacket(p);
        }

        return decoder.DecodeFrameUntiled(0);
    }
}
