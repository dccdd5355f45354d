using EdgeCodec.Adapters;
using EdgeCodec.Backends;
using EdgeCodec.Codec;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>Nothing else measures backends while these tests count the measurements.</summary>
[CollectionDefinition("backend speed probe", DisableParallelization = true)]
public sealed class BackendSpeedProbeCollection;

/// <summary>
/// An encoder with experts builds its adapted packs and picks its routing backend once, not per frame: adapted packs
/// are new objects, and per frame they re-ran the backend speed probe and were kept alive by its cache (a camera
/// encoding with experts grew by a model pack per frame).
/// </summary>
[Collection("backend speed probe")]
public sealed class RoutingReuseTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static AdapterPackage Shipped(string id) =>
        AdapterPackage.Read(File.ReadAllBytes(Path.Combine(TestPacks.RepositoryRoot, "models", "adapters", id + ".ecadapter")));

    [PackFact]
    public void Encoding_frames_with_experts_measures_the_backends_once()
    {
        using var encoder = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions
        {
            Threads = 2,
            TileSize = 128,
            Experts = [Shipped("illustrations"), Shipped("screen-content")],
        });
        var first = encoder.Encode(fixture.Image, 2, frameIndex: 0);
        int measured = BackendSpeedProbe.Measurements;
        for (uint frame = 1; frame <= 3; frame++)
        {
            var next = encoder.Encode(fixture.Image, 2, frameIndex: frame);
            Assert.Equal(first.ExpertsPerTile, next.ExpertsPerTile);
        }

        Assert.Equal(measured, BackendSpeedProbe.Measurements);
    }
}
