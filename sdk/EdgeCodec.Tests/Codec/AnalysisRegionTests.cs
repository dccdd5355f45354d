using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

public sealed class AnalysisRegionTests
{
    [PackFact]
    public void Regional_analysis_gives_the_one_pass_latents()
    {
        // coffee.png (600x400, padded to 640x448): 128-px regions with the 96-px halo give 5x4 windows, interior and border ones.
        var image = ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));
        var grid = new TileGrid(image.Width, image.Height, 256);
        float[] planar = EdgeCodecEncoder.ToPaddedPlanar(image, grid.PaddedWidth, grid.PaddedHeight);
        using var analysis = new OnnxAnalysis(TestPacks.Pack, 2);
        float[] whole = analysis.Analyze(planar, grid.PaddedHeight, grid.PaddedWidth);
        float[] regions = analysis.Analyze(planar, grid.PaddedHeight, grid.PaddedWidth, region: 128);
        Assert.Equal(whole.Length, regions.Length);
        double maxAbs = 0, maxLatent = 0;
        for (int i = 0; i < whole.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(whole[i] - regions[i]));
            maxLatent = Math.Max(maxLatent, Math.Abs(whole[i]));
        }

        // Only float association order may differ. A halo short of g_a's receptive field shows: with 64 px (short of the
        // 86 px the stride-16 residual block needs) the shipped pack's latents differed by 9.4e-5; with 96 by nothing.
        Assert.True(maxLatent > 1, $"latents too small to test: {maxLatent}");
        Assert.True(maxAbs < 1e-5, $"max |difference| {maxAbs} (max |latent| {maxLatent})");
    }

    [PackFact]
    public void Regional_encoding_decodes_like_one_pass_encoding()
    {
        var image = ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));
        double Psnr(int region)
        {
            using var encoder = new EdgeCodecEncoder(TestPacks.Pack, new EncoderOptions { Threads = 2, AnalysisRegion = region });
            using var ms = new MemoryStream(encoder.Encode(image, 2).ToContainerBytes(), writable: false);
            return CodecFixture.Psnr(image, EdgeCodecDecoder.Decode(TestPacks.Pack, ms, new DecoderOptions { Backend = "reference" }).Frame.Image);
        }

        Assert.Equal(Psnr(0), Psnr(192), 2);
    }

    [PackFact]
    public void A_warmed_up_encoder_writes_the_stream_a_cold_one_does()
    {
        // WarmUp runs the analysis on a blank frame of the size (here every 256-px region shape of 600x400) and keeps
        // nothing of it: the next picture's stream is the cold encoder's, byte for byte.
        var image = ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));
        var options = new EncoderOptions { Threads = 2, AnalysisRegion = 256 };
        using var cold = new EdgeCodecEncoder(TestPacks.Pack, options);
        using var warm = new EdgeCodecEncoder(TestPacks.Pack, options);
        warm.WarmUp(image.Width, image.Height);
        Assert.Equal(cold.Encode(image, 3).ToContainerBytes(), warm.Encode(image, 3).ToContainerBytes());
        Assert.Throws<ArgumentOutOfRangeException>(() => warm.WarmUp(0, 400));
        Assert.Throws<ArgumentOutOfRangeException>(() => warm.WarmUp(600, RgbImage.MaxDimension + 1));
    }
}
