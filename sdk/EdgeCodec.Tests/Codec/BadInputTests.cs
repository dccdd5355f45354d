using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

public sealed class BadInputTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private DecoderOptions Options(List<string>? log = null) => new() { Backend = "reference", Threads = 2, Log = log is null ? null : log.Add };

    [PackTheory]
    [InlineData(ContainerLayout.Compact)]
    [InlineData(ContainerLayout.Indexed)]
    public void Truncated_container_decodes_the_layers_that_survived(ContainerLayout layout)
    {
        var encoded = fixture.Encoded(2);
        byte[] full = encoded.ToContainerBytes(layout);
        var complete = Decode(full);
        var entries = ContainerReader.Read(full).Entries;
        var lastBase = entries[encoded.Header.TileCount - 1];
        int baseBytes = (int)(lastBase.Offset + lastBase.Length);
        // Cut inside layer 1: every tile keeps its base layer, some keep layer 1.
        var (frame, read) = DecodeWithResult(full.AsSpan(0, baseBytes + 40).ToArray());
        Assert.False(read.IsComplete);
        Assert.False(frame.IsComplete);
        Assert.Empty(frame.MissingTiles);
        Assert.All(frame.LayersPerTile, l => Assert.InRange(l, 1, 2));
        Assert.True(CodecFixture.Psnr(fixture.Image, frame.Image) > 15);
        Assert.True(CodecFixture.Psnr(fixture.Image, frame.Image) <= CodecFixture.Psnr(fixture.Image, complete.Image));
    }

    [PackTheory]
    [InlineData(ContainerLayout.Compact)]
    [InlineData(ContainerLayout.Indexed)]
    public void Container_cut_inside_the_base_layer_conceals_the_missing_tiles(ContainerLayout layout)
    {
        var encoded = fixture.Encoded(2);
        byte[] full = encoded.ToContainerBytes(layout);
        var first = ContainerReader.Read(full).Entries[0];
        int firstPacket = (int)(first.Offset + first.Length);
        var log = new List<string>();
        var (frame, read) = DecodeWithResult(full.AsSpan(0, firstPacket + 10).ToArray(), log);
        Assert.Equal(ContainerReadStatus.Truncated, read.Status);
        Assert.Equal(1, read.PacketsRecovered);
        Assert.Equal(encoded.Header.TileCount - 1, frame.MissingTiles.Count);
        Assert.DoesNotContain(0, frame.MissingTiles);
        Assert.Contains(log, l => l.Contains("concealed", StringComparison.Ordinal));
        Assert.Equal(fixture.Image.Width, frame.Image.Width);
    }

    [PackTheory]
    [InlineData(ContainerLayout.Compact)]
    [InlineData(ContainerLayout.Indexed)]
    public void Bit_flip_in_a_packet_is_caught_by_its_crc_and_the_prefix_still_decodes(ContainerLayout layout)
    {
        var encoded = fixture.Encoded(2);
        byte[] data = encoded.ToContainerBytes(layout);
        int offset = (int)ContainerReader.Read(data).Entries[1].Offset + 20; // inside packet 1
        data[offset] ^= 0x10;
        var (frame, read) = DecodeWithResult(data);
        Assert.False(read.IsComplete);
        Assert.Equal(1, read.PacketsRecovered);
        Assert.Equal([0], frame.LayersPerTile.Select((l, t) => (l, t)).Where(x => x.l > 0).Select(x => x.t));
    }

    [PackFact]
    public void Corrupt_payload_with_valid_crc_degrades_to_predicted_means_without_crashing()
    {
        // A sender bug (or an attacker who recomputes the CRC) delivers garbage in a refinement layer.
        var encoded = fixture.Encoded(2);
        var log = new List<string>();
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options(log));
        decoder.SetHeader(encoded.Header);
        var rng = new Random(7);
        foreach (var p in encoded.Packets)
        {
            if (p.Layer == 1 && p.TileIndex == 0)
            {
                var junk = new byte[p.Payload.Length];
                rng.NextBytes(junk);
                decoder.SendPacket(new LatentPacket { TileIndex = p.TileIndex, Layer = p.Layer, ModelId = p.ModelId, Sequence = p.Sequence, Payload = junk });
            }
            else
            {
                decoder.SendPacket(p);
            }
        }

        var frame = decoder.DecodeFrame(0);
        Assert.Equal(1, frame.LayersPerTile[0]);
        Assert.Contains(log, l => l.Contains("tile 0: layer 1 is corrupt", StringComparison.Ordinal));
    }

    [PackFact]
    public void Stream_from_another_model_is_rejected_with_a_typed_error()
    {
        var header = fixture.Encoded(2).Header;
        var other = ContainerHeader.Create(header.ModelId ^ 1, header.Width, header.Height, header.TileWidth, header.TileHeight, header.LayerCount, 1, header.QualityLevel);
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options());
        var ex = Assert.Throws<EdgeCodecFormatException>(() => decoder.SetHeader(other));
        Assert.Contains("model", ex.Message, StringComparison.Ordinal);
        decoder.SetHeader(header);
        var packet = fixture.Encoded(2).Packets[0];
        Assert.Throws<EdgeCodecFormatException>(() => decoder.SendPacket(new LatentPacket { ModelId = packet.ModelId + 1, Payload = packet.Payload }));
    }

    [PackFact]
    public void Oversized_geometry_is_rejected_before_any_allocation()
    {
        var header = fixture.Encoded(2).Header;
        var huge = ContainerHeader.Create(header.ModelId, 60000, 60000, 256, 256, 4, 1, 2);
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options());
        var ex = Assert.Throws<EdgeCodecFormatException>(() => decoder.SetHeader(huge));
        Assert.Equal(FormatError.LimitExceeded, ex.Error);
    }

    [PackFact]
    public void Packets_outside_the_grid_and_duplicates_are_handled()
    {
        var encoded = fixture.Encoded(2);
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options());
        decoder.SetHeader(encoded.Header);
        Assert.True(decoder.SendPacket(encoded.Packets[0]));
        Assert.False(decoder.SendPacket(encoded.Packets[0]));
        Assert.Throws<EdgeCodecFormatException>(() => decoder.SendPacket(new LatentPacket { ModelId = fixture.Pack.ModelId, TileIndex = 999 }));
        Assert.Throws<EdgeCodecFormatException>(() => decoder.SendPacket(new LatentPacket { ModelId = fixture.Pack.ModelId, Layer = 9 }));
    }

    [PackFact]
    public void Push_pull_api_returns_a_frame_once_complete_in_any_packet_order()
    {
        var encoded = fixture.Encoded(2);
        using var decoder = new EdgeCodecDecoder(fixture.Pack, Options());
        decoder.SetHeader(encoded.Header);
        var shuffled = encoded.Packets.OrderBy(p => (p.Sequence * 7919) % 101).ToList();
        foreach (var p in shuffled.Take(shuffled.Count - 1))
        {
            decoder.SendPacket(p);
            Assert.False(decoder.TryReceiveFrame(out _));
        }

        decoder.SendPacket(shuffled[^1]);
        Assert.True(decoder.TryReceiveFrame(out var frame));
        Assert.True(frame!.IsComplete);
        Assert.Equal(Decode(encoded.ToContainerBytes()).Image.Pixels, frame.Image.Pixels);
        Assert.False(decoder.TryReceiveFrame(out _));
    }

    private DecodedFrame Decode(byte[] container) => DecodeWithResult(container).Frame;

    private (DecodedFrame Frame, ContainerReadResult Read) DecodeWithResult(byte[] container, List<string>? log = null)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(fixture.Pack, ms, Options(log));
    }
}
