using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Models;
using EdgeCodec.Tests.Codec;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Adapters;

public sealed class AdapterDecodeTests(CodecFixture fixture) : IClassFixture<CodecFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("adapters").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The container of <paramref name="encoded"/> with every packet naming <paramref name="expert"/>.</summary>
    internal static byte[] WithExpert(EncodedImage encoded, ushort expert)
    {
        using var ms = new MemoryStream();
        using (var w = new ContainerWriter(ms, encoded.Header, leaveOpen: true))
        {
            foreach (var p in encoded.Packets)
            {
                w.Append(new LatentPacket { StreamId = p.StreamId, Sequence = p.Sequence, FrameIndex = p.FrameIndex, TileIndex = p.TileIndex, Layer = p.Layer, ExpertId = expert, ModelId = p.ModelId, Payload = p.Payload });
            }

            w.Complete();
        }

        return ms.ToArray();
    }

    private DecodedFrame Decode(byte[] container, IAdapterSource? adapters, List<string>? log = null)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(fixture.Pack, ms, new DecoderOptions { Backend = "reference", Threads = 2, Adapters = adapters, Log = log is null ? null : log.Add }).Frame;
    }

    [PackFact]
    public void Tiles_decode_with_their_adapter_and_fall_back_to_the_base_when_it_is_missing()
    {
        var (key, trust) = TestAdapters.Publisher();
        var registry = new AdapterRegistry(_root, fixture.Pack, trust);
        var encoded = fixture.Encoded(2);
        var baseFrame = Decode(encoded.ToContainerBytes(), registry);

        var log = new List<string>();
        var missing = Decode(WithExpert(encoded, 7), registry, log);
        Assert.Equal(baseFrame.Image.Pixels, missing.Image.Pixels);
        Assert.Equal(encoded.Header.TileCount, missing.TilesWithoutAdapter.Count);
        Assert.Contains(log, l => l.Contains("expert 7 is not installed", StringComparison.Ordinal));

        registry.Install(TestAdapters.Make(fixture.Pack, "bright", 7, 1, 1.0, 4000).Sign(key).ToBytes());
        var adapted = Decode(WithExpert(encoded, 7), registry);
        Assert.Empty(adapted.TilesWithoutAdapter);
        Assert.All(adapted.ExpertsPerTile, e => Assert.Equal((ushort)7, e));
        Assert.NotEqual(baseFrame.Image.Pixels, adapted.Image.Pixels);
        Assert.True(adapted.Image.Pixels.Average(b => (double)b) > baseFrame.Image.Pixels.Average(b => (double)b)); // the bias brightens
    }

    [PackFact]
    public void A_new_version_is_hot_swapped_into_a_running_decoder()
    {
        var (key, trust) = TestAdapters.Publisher();
        var registry = new AdapterRegistry(_root, fixture.Pack, trust);
        registry.Install(TestAdapters.Make(fixture.Pack, "tone", 3, 1, 1.0, 2000).Sign(key).ToBytes());
        var encoded = fixture.Encoded(2);
        using var ms = new MemoryStream(WithExpert(encoded, 3));
        var read = ContainerReader.Read(ms);
        using var decoder = new EdgeCodecDecoder(fixture.Pack, new DecoderOptions { Backend = "reference", Threads = 2, Adapters = registry });
        decoder.SetHeader(read.Header);
        foreach (var p in read.Packets)
        {
            decoder.SendPacket(p);
        }

        byte[] v1 = decoder.DecodeFrame(0).Image.Pixels;
        registry.Install(TestAdapters.Make(fixture.Pack, "tone", 3, 2, 1.0, -2000).Sign(key).ToBytes());
        byte[] v2 = decoder.DecodeFrame(0).Image.Pixels;
        Assert.NotEqual(v1, v2);
        Assert.True(registry.Rollback("tone"));
        Assert.Equal(v1, decoder.DecodeFrame(0).Image.Pixels);
    }

    [PackFact]
    public void The_encoder_routes_each_tile_to_its_least_distorting_expert()
    {
        var bad = TestAdapters.Make(fixture.Pack, "bad", 9, 1, 1.0, 60000, output: "rgb");
        var neutral = TestAdapters.Make(fixture.Pack, "same", 4, 1, 1.0, 0);
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 128, Experts = [bad, neutral] });
        var encoded = encoder.Encode(fixture.Image, 2);
        // A wrecking adapter is never chosen; one identical to the base never beats it (ties keep the base).
        Assert.All(encoded.ExpertsPerTile, e => Assert.Equal((ushort)0, e));
        Assert.All(encoded.Packets, p => Assert.Equal((ushort)0, p.ExpertId));
        Assert.Equal(fixture.Encoded(2).PayloadBytes, encoded.PayloadBytes); // adapters never change the bits
    }

    [PackFact]
    public void A_byte_budget_encode_with_experts_is_the_routed_encode_of_the_level_and_layers_it_picks()
    {
        var bad = TestAdapters.Make(fixture.Pack, "bad", 9, 1, 1.0, 60000, output: "rgb");
        var lighter = TestAdapters.Make(fixture.Pack, "lighter", 5, 1, 1.0, 300, output: "rgb");
        var darker = TestAdapters.Make(fixture.Pack, "darker", 6, 1, 1.0, -300, output: "rgb");
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 128, Experts = [bad, lighter, darker] });
        long budget = (fixture.Encoded(2).ToContainerBytes().Length + fixture.Encoded(3).ToContainerBytes().Length) / 2;
        var chosen = encoder.EncodeWithin(fixture.Image, budget);
        Assert.True(chosen.ToContainerBytes().Length <= budget);
        var same = chosen.Header.LayerCount <= fixture.Pack.Layout.Groups
            ? encoder.Encode(fixture.Image, chosen.Header.QualityLevel, chosen.Header.LayerCount)
            : encoder.Encode(fixture.Image, new QualitySetting(chosen.Header.QualityLevel, chosen.Packets[^1].Payload.Span[0])); // with a residual layer
        Assert.Equal(same.ToContainerBytes(), chosen.ToContainerBytes());
        Assert.Equal(same.ExpertsPerTile, chosen.ExpertsPerTile);
        Assert.DoesNotContain((ushort)9, chosen.ExpertsPerTile);
        Assert.Contains(chosen.ExpertsPerTile, e => e is 5 or 6); // routing really ran: some tile is better lighter or darker
    }
}
