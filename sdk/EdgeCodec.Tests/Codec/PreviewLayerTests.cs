using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>
/// <see cref="EncoderOptions.PreviewLayer"/>: each tile's hyper-latent as a layer of its own, before group 0. The same
/// bits in one more packet per tile, the same finished picture, and a whole coarse picture from the first layer.
/// </summary>
public sealed class PreviewLayerTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static DecodedFrame Decode(byte[] container, int layers = 0, Action<string>? log = null)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(TestPacks.Pack, ms, new DecoderOptions { Backend = "reference", Threads = 2, MaxLayers = layers, Log = log }).Frame;
    }

    private EdgeCodecEncoder PreviewEncoder() => new(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 128, PreviewLayer = true });

    [PackFact]
    public void The_preview_layer_splits_the_base_layer_and_the_picture_is_unchanged()
    {
        using var encoder = PreviewEncoder();
        var plain = fixture.Encoded(2);
        var preview = encoder.Encode(fixture.Image, 2);
        int tiles = plain.Header.TileCount, groups = fixture.Pack.Layout.Groups;
        Assert.True(preview.Header.PreviewLayer);
        Assert.False(plain.Header.PreviewLayer);
        Assert.Equal(groups + 1, preview.Header.LayerCount);
        Assert.Equal(plain.Header.LayerCount + 1, preview.Header.LayerCount);
        Assert.Equal((groups + 1) * tiles, preview.Packets.Count);

        // Layer 0 and 1 of each tile are the plain base layer's z and group-0 streams; the rest move up by one.
        for (int t = 0; t < tiles; t++)
        {
            var (z, group0) = LayerPayload.SplitBase(plain.Packets[t].Payload);
            Assert.Equal(z.ToArray(), preview.Packets[t].Payload.ToArray());
            Assert.Equal(group0.ToArray(), preview.Packets[tiles + t].Payload.ToArray());
        }

        Assert.Equal(plain.Packets.Skip(tiles).Select(p => p.Payload.ToArray()), preview.Packets.Skip(2 * tiles).Select(p => p.Payload.ToArray()));
        Assert.Equal(Enumerable.Range(0, preview.Packets.Count).Select(i => i / tiles), preview.Packets.Select(p => (int)p.Layer));

        foreach (var layout in new[] { ContainerLayout.Compact, ContainerLayout.Indexed })
        {
            var frame = Decode(preview.ToContainerBytes(layout));
            Assert.True(frame.IsComplete);
            Assert.All(frame.LayersPerTile, n => Assert.Equal(groups + 1, n));
            Assert.Equal(Decode(plain.ToContainerBytes()).Image.Pixels, frame.Image.Pixels);
        }

        // Every latent-layer prefix is the plain stream's prefix of the same groups, one layer later.
        byte[] container = preview.ToContainerBytes();
        for (int k = 1; k <= groups; k++)
        {
            Assert.Equal(Decode(plain.ToContainerBytes(), layers: k).Image.Pixels, Decode(container, layers: k + 1).Image.Pixels);
        }
    }

    [PackFact]
    public void The_first_layer_alone_is_a_whole_coarse_picture()
    {
        using var encoder = PreviewEncoder();
        var encoded = encoder.Encode(fixture.Image, 3);
        byte[] container = encoded.ToContainerBytes();
        var logged = new List<string>();
        var preview = Decode(container, layers: 1, log: logged.Add);
        Assert.Empty(preview.MissingTiles);
        Assert.All(preview.LayersPerTile, n => Assert.Equal(1, n));
        Assert.DoesNotContain(logged, l => l.Contains("concealed", StringComparison.Ordinal));

        // Between a concealed picture (no tile arrived: zero latents) and the base layer with group 0.
        using var none = new MemoryStream();
        ContainerWriter.Write(encoded.Header, [], none, ContainerLayout.Compact);
        var concealed = Decode(none.ToArray());
        Assert.All(concealed.LayersPerTile, n => Assert.Equal(0, n));
        double flat = CodecFixture.Psnr(fixture.Image, concealed.Image);
        double z = CodecFixture.Psnr(fixture.Image, preview.Image);
        double base0 = CodecFixture.Psnr(fixture.Image, Decode(container, layers: 2).Image);
        Assert.True(z > flat + 2, $"preview {z:F2} dB against concealed {flat:F2} dB");
        Assert.True(base0 > z + 1, $"group 0 {base0:F2} dB against preview {z:F2} dB");

        // It is a small part of the stream: what a cut download needs to show a whole picture.
        long first = encoded.Packets.Where(p => p.Layer == 0).Sum(p => (long)p.Payload.Length);
        Assert.True(first * 5 < encoded.PayloadBytes, $"{first} of {encoded.PayloadBytes} payload bytes");
    }

    [PackFact]
    public void A_download_cut_after_the_preview_packets_shows_every_tile()
    {
        using var encoder = PreviewEncoder();
        var encoded = encoder.Encode(fixture.Image, 1);
        byte[] file = encoded.ToContainerBytes(ContainerLayout.Indexed);
        var read = ContainerReader.Read(file);
        var lastPreview = read.Entries.Last(e => e.Layer == 0);
        int cut = (int)(lastPreview.Offset + lastPreview.Length);
        using var ms = new MemoryStream(file, 0, cut, writable: false);
        var (frame, container) = EdgeCodecDecoder.Decode(fixture.Pack, ms, new DecoderOptions { Backend = "reference", Threads = 2 });
        Assert.Equal(ContainerReadStatus.Truncated, container.Status);
        Assert.Equal(encoded.Header.TileCount, container.PacketsRecovered);
        Assert.Empty(frame.MissingTiles);
        Assert.Equal(Decode(encoded.ToContainerBytes(), layers: 1).Image.Pixels, frame.Image.Pixels);
    }

    [PackFact]
    public void A_residual_layer_follows_the_latent_layers()
    {
        var pack = ResidualLayerTests.ResidualPack(fixture.Pack);
        using var plainEncoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, TileSize = 128 });
        using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, TileSize = 128, PreviewLayer = true });
        int groups = pack.Layout.Groups;
        var plain = plainEncoder.Encode(fixture.Image, new QualitySetting(3, 1));
        var preview = encoder.Encode(fixture.Image, new QualitySetting(3, 1));
        Assert.Equal(groups + 2, preview.Header.LayerCount);

        DecodedFrame Run(EncodedImage e, int layers = 0)
        {
            using var ms = new MemoryStream(e.ToContainerBytes(), writable: false);
            return EdgeCodecDecoder.Decode(pack, ms, new DecoderOptions { Backend = "reference", Threads = 2, MaxLayers = layers }).Frame;
        }

        var frame = Run(preview);
        Assert.True(frame.IsComplete);
        Assert.All(frame.LayersPerTile, n => Assert.Equal(groups + 2, n));
        Assert.Equal(Run(plain).Image.Pixels, frame.Image.Pixels);
        Assert.Equal(Run(plain, groups).Image.Pixels, Run(preview, groups + 1).Image.Pixels);

        // Asking for one latent layer more than the pack has is a clear error, with or without the preview layer.
        var tooMany = preview.Header.WithLayerCount(groups + 3);
        using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = "reference" });
        Assert.Equal(FormatError.Malformed, Assert.Throws<EdgeCodecFormatException>(() => decoder.SetHeader(tooMany)).Error);
        decoder.SetHeader(preview.Header);
    }

    [PackFact]
    public void A_budget_below_every_base_layer_still_gets_a_whole_picture_from_the_preview_layer()
    {
        using var encoder = PreviewEncoder();
        long baseOnly = fixture.Encoder.Encode(fixture.Image, 0, layers: 1).ToContainerBytes().Length;
        long budget = baseOnly - 1;
        var plainError = Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Encoder.EncodeWithin(fixture.Image, budget));
        Assert.Contains($"is {baseOnly} bytes", plainError.Message, StringComparison.Ordinal);

        var within = encoder.EncodeWithin(fixture.Image, budget);
        Assert.Equal(1, within.Header.LayerCount); // the preview alone
        Assert.True(within.Header.PreviewLayer);
        byte[] container = within.ToContainerBytes();
        Assert.True(container.Length <= budget);
        var frame = Decode(container);
        Assert.Empty(frame.MissingTiles);
        Assert.Equal(Decode(encoder.Encode(fixture.Image, within.Header.QualityLevel).ToContainerBytes(), layers: 1).Image.Pixels, frame.Image.Pixels);

        // Below the smallest preview: the error says what the smallest stream is.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.EncodeWithin(fixture.Image, 10));
        Assert.Contains("(the preview layer only)", e.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void A_byte_budget_counts_the_preview_packets()
    {
        using var encoder = PreviewEncoder();
        long budget = fixture.Encoded(3).ToContainerBytes().Length;
        var within = encoder.EncodeWithin(fixture.Image, budget);
        Assert.True(within.Header.PreviewLayer);
        Assert.True(within.ToContainerBytes().Length <= budget);
        var frame = Decode(within.ToContainerBytes());
        Assert.True(frame.IsComplete);
        Assert.Equal(within.Header.LayerCount, frame.ExpectedLayers);
    }

    [PackFact]
    public void An_existing_file_gains_a_preview_layer_without_re_encoding_and_loses_it_again()
    {
        using var encoder = PreviewEncoder();
        var plain = fixture.Encoded(2);
        var preview = encoder.Encode(fixture.Image, 2);
        foreach (var layout in new[] { ContainerLayout.Compact, ContainerLayout.Indexed })
        {
            // Byte for byte what the encoder writes with the option on.
            var read = ContainerReader.Read(plain.ToContainerBytes(layout));
            using var converted = new MemoryStream();
            Assert.Equal(preview.Packets.Count, ContainerWriter.WriteWithPreviewLayer(read, converted));
            Assert.Equal(preview.ToContainerBytes(layout), converted.ToArray());

            var again = ContainerReader.Read(converted.ToArray());
            Assert.Throws<ArgumentException>(() => ContainerWriter.WriteWithPreviewLayer(again, Stream.Null));

            // And back (WriteWithoutPreviewLayer): what the encoder writes without the option, a version-1 file.
            using var back = new MemoryStream();
            Assert.Equal(plain.Packets.Count, ContainerWriter.WriteWithoutPreviewLayer(again, back));
            Assert.Equal(plain.ToContainerBytes(layout), back.ToArray());
            Assert.False(ContainerReader.Read(back.ToArray()).Header.PreviewLayer);
            Assert.Throws<ArgumentException>(() => ContainerWriter.WriteWithoutPreviewLayer(ContainerReader.Read(back.ToArray()), Stream.Null));
        }

        // A download cut inside the base layer: the z packets it holds come first, then the rest up to the first gap.
        byte[] whole = plain.ToContainerBytes(ContainerLayout.Indexed);
        var entries = ContainerReader.Read(whole).Entries;
        int tiles = plain.Header.TileCount;
        var cut = ContainerReader.Read(whole.AsMemory(0, (int)(entries[tiles - 2].Offset + entries[tiles - 2].Length)));
        Assert.Equal(tiles - 1, cut.PacketsRecovered);
        using var fromCut = new MemoryStream();
        Assert.Equal(tiles - 1, ContainerWriter.WriteWithPreviewLayer(cut, fromCut, ContainerLayout.Compact)); // z of the tiles that came
        var shown = Decode(fromCut.ToArray());
        Assert.Equal(Enumerable.Repeat(1, tiles - 1).Append(0).ToArray(), shown.LayersPerTile.ToArray());

        // A base payload without its group-0 stream is bad input, not an empty packet.
        var bad = ContainerReader.Read(plain.ToContainerBytes(ContainerLayout.Indexed));
        var packets = bad.Packets.ToArray();
        var (z, _) = LayerPayload.SplitBase(packets[0].Payload);
        packets[0] = new LatentPacket
        {
            StreamId = packets[0].StreamId, Sequence = packets[0].Sequence, FrameIndex = packets[0].FrameIndex, TileIndex = 0, Layer = 0,
            ModelId = packets[0].ModelId, Payload = LayerPayload.EncodeBase(z.ToArray(), []),
        };
        using var damaged = new MemoryStream();
        ContainerWriter.Write(plain.Header, packets, damaged, ContainerLayout.Indexed);
        Assert.Equal(FormatError.Malformed, Assert.Throws<EdgeCodecFormatException>(
            () => ContainerWriter.WriteWithPreviewLayer(ContainerReader.Read(damaged.ToArray()), Stream.Null)).Error);
    }

    [PackFact]
    public void A_preview_file_without_its_base_layer_goes_back_as_far_as_it_can()
    {
        using var encoder = PreviewEncoder();
        var plain = fixture.Encoded(2);
        var preview = encoder.Encode(fixture.Image, 2);
        // The preview layer alone has no version-1 form.
        using var previewOnly = new MemoryStream();
        ContainerWriter.WriteLayerPrefix(ContainerReader.Read(preview.ToContainerBytes()), 1, previewOnly);
        Assert.Throws<ArgumentException>(() => ContainerWriter.WriteWithoutPreviewLayer(ContainerReader.Read(previewOnly.ToArray()), Stream.Null));

        // A download cut inside group 0: the tiles whose group 0 came get their base layer, the others none.
        byte[] whole = preview.ToContainerBytes(ContainerLayout.Indexed);
        var entries = ContainerReader.Read(whole).Entries;
        int tiles = preview.Header.TileCount;
        var cut = ContainerReader.Read(whole.AsMemory(0, (int)(entries[tiles + 1].Offset + entries[tiles + 1].Length)));
        Assert.Equal(tiles + 2, cut.PacketsRecovered);
        using var fromCut = new MemoryStream();
        Assert.Equal(2, ContainerWriter.WriteWithoutPreviewLayer(cut, fromCut, ContainerLayout.Compact));
        var shown = Decode(fromCut.ToArray());
        Assert.Equal(new[] { 1, 1 }.Concat(Enumerable.Repeat(0, tiles - 2)).ToArray(), shown.LayersPerTile.ToArray());
        byte[] plainWhole = plain.ToContainerBytes(ContainerLayout.Indexed);
        var plainEntries = ContainerReader.Read(plainWhole).Entries;
        var plainCut = Decode(plainWhole.AsSpan(0, (int)(plainEntries[1].Offset + plainEntries[1].Length)).ToArray());
        Assert.Equal(plainCut.Image.Pixels.ToArray(), shown.Image.Pixels.ToArray()); // the same picture as the plain file cut there

        // An empty z packet is bad input, not a base layer without z.
        var packets = ContainerReader.Read(whole).Packets.ToArray();
        packets[0] = new LatentPacket
        {
            StreamId = packets[0].StreamId, Sequence = packets[0].Sequence, FrameIndex = packets[0].FrameIndex, TileIndex = 0, Layer = 0,
            ModelId = packets[0].ModelId, Payload = Array.Empty<byte>(),
        };
        using var damaged = new MemoryStream();
        ContainerWriter.Write(preview.Header, packets, damaged, ContainerLayout.Indexed);
        Assert.Equal(FormatError.Malformed, Assert.Throws<EdgeCodecFormatException>(
            () => ContainerWriter.WriteWithoutPreviewLayer(ContainerReader.Read(damaged.ToArray()), Stream.Null)).Error);
    }
}
