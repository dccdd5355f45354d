using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>
/// One encoder kept for a run of pictures (a camera) writes the same bytes as an encoder made for each: its pooled
/// analysis windows and entropy-path buffers, full of the picture before, never leak into the next.
/// </summary>
public sealed class EncoderReuseTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    [PackFact]
    public void A_kept_encoder_writes_what_a_new_encoder_writes_for_each_picture()
    {
        // Same size, other content (so the pool hands over arrays full of other values), then another size, then back;
        // a small analysis region so the windows are pooled too.
        var other = Flipped(fixture.Image);
        var small = CodecFixture.Crop(fixture.Image, 10, 20, 200, 136);
        (RgbImage Image, QualitySetting Setting)[] run =
        [
            (fixture.Image, new QualitySetting(3, null)),
            (other, new QualitySetting(1, null)),
            (small, new QualitySetting(4, null)),
            (fixture.Image, new QualitySetting(3, null)),
            (other, fixture.Pack.QualityLadder.FirstOrDefault(s => s.ResidualStep is not null) ?? new QualitySetting(5, null)),
        ];
        var options = new EncoderOptions { Threads = 2, TileSize = 128, AnalysisRegion = 128 };
        using var kept = new EdgeCodecEncoder(fixture.Pack, options);
        foreach (var (image, setting) in run)
        {
            byte[] actual = kept.Encode(image, setting).ToContainerBytes();
            using var fresh = new EdgeCodecEncoder(fixture.Pack, options);
            Assert.Equal(fresh.Encode(image, setting).ToContainerBytes(), actual);
        }

        // The byte-budget search encodes every level of one analysis: the same through the kept encoder.
        using var freshBudget = new EdgeCodecEncoder(fixture.Pack, options);
        Assert.Equal(freshBudget.EncodeWithin(other, 2500).ToContainerBytes(), kept.EncodeWithin(other, 2500).ToContainerBytes());
    }

    private static RgbImage Flipped(RgbImage image)
    {
        var flipped = new RgbImage(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
        {
            image.Row(image.Height - 1 - y).CopyTo(flipped.Row(y));
        }

        return flipped;
    }
}
