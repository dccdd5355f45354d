using EdgeCodec.Imaging;
using EdgeCodec.Inference;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Inference;

/// <summary>
/// Cross-implementation: the C# engine on the vectors that training/export.py computed with training/intref.py
/// (numpy int64) must give the same integers, element for element.
/// </summary>
public sealed class ModelVectorTests
{
    [VectorFact]
    public void Hyper_and_context_reproduce_means_indices_and_latents()
    {
        ModelVectors v = TestPacks.Vectors;
        ModelPack pack = TestPacks.VectorsPack;
        Assert.Equal(v.PackSha256, pack.Sha256);
        foreach (int dop in new[] { 1, 2 })
        {
            EntropyTileSession session = new IntegerEntropyModel(pack).StartTile(v["z"], dop);
            for (int k = 0; k < pack.Layout.Groups; k++)
            {
                GroupPrediction p = session.Predict();
                Assert.Equal(k, p.Group);
                AssertSame(v[$"mean{k}"], p.Mean, $"mean{k} (dop {dop})");
                AssertSame(v[$"index{k}"], p.Index, $"index{k} (dop {dop})");
                session.DecodeGroup(v[$"symbols{k}"].Data);
            }

            AssertSame(v["y"], session.GetLatent(), $"y (dop {dop})");
        }
    }

    [VectorFact]
    public void Encoder_hook_rederives_the_symbols_from_float_latents()
    {
        // y' = sym + mean/16 + d with |d| < 0.5 must give sym back: the float-to-symbol rule of export.py.
        ModelVectors v = TestPacks.Vectors;
        ModelPack pack = TestPacks.VectorsPack;
        EntropyTileSession session = new IntegerEntropyModel(pack).StartTile(v["z"]);
        var rng = new Random(3);
        for (int k = 0; k < pack.Layout.Groups; k++)
        {
            int[] mean = session.Predict().Mean.Data;
            int[] symbols = v[$"symbols{k}"].Data;
            float[] yPrime = new float[mean.Length];
            for (int i = 0; i < yPrime.Length; i++)
            {
                yPrime[i] = (float)(symbols[i] + (mean[i] / 16.0) + ((rng.NextDouble() - 0.5) * 0.9));
            }

            Assert.Equal(symbols, session.EncodeGroup(yPrime));
        }

        AssertSame(v["y"], session.GetLatent(), "y");
    }

    [VectorFact]
    public void Missing_groups_decode_as_their_means()
    {
        ModelVectors v = TestPacks.Vectors;
        ModelPack pack = TestPacks.VectorsPack;
        EntropyTileSession session = new IntegerEntropyModel(pack).StartTile(v["z"]);
        session.DecodeGroup(v["symbols0"].Data);
        GroupPrediction p1 = session.Predict();
        AssertSame(v["mean1"], p1.Mean, "mean1");
        session.SkipGroup();
        while (!session.IsComplete)
        {
            session.SkipGroup();
        }

        I32Tensor y = session.GetLatent();
        int gc = pack.Layout.GroupChannels;
        Assert.Equal(v["y"].Data.AsSpan(0, v["mean0"].Length).ToArray(), y.Data.AsSpan(0, gc * y.PlaneSize).ToArray());
        Assert.Equal(p1.Mean.Data, y.Data.AsSpan(gc * y.PlaneSize, gc * y.PlaneSize).ToArray());
        Assert.Throws<InvalidOperationException>(session.Predict);
    }

    [VectorFact]
    public void Synthesis_reproduces_rgb_for_1_and_2_threads()
    {
        ModelVectors v = TestPacks.Vectors;
        var synthesis = new IntegerSynthesis(TestPacks.VectorsPack);
        I32Tensor expected = v["rgb"];
        foreach (int dop in new[] { 1, 2 })
        {
            RgbImage image = synthesis.Run(v["y"], v.Quality, dop);
            Assert.Equal((expected.Width, expected.Height), (image.Width, image.Height));
            for (int c = 0; c < 3; c++)
            {
                for (int i = 0; i < expected.PlaneSize; i++)
                {
                    if (image.Pixels[(3 * i) + c] != expected.Data[(c * expected.PlaneSize) + i])
                    {
                        Assert.Fail($"dop {dop}: rgb[{c}, {i / expected.Width}, {i % expected.Width}] = {image.Pixels[(3 * i) + c]}, reference {expected.Data[(c * expected.PlaneSize) + i]}");
                    }
                }
            }
        }
    }

    private static void AssertSame(I32Tensor expected, I32Tensor actual, string what)
    {
        Assert.Equal((expected.Channels, expected.Height, expected.Width), (actual.Channels, actual.Height, actual.Width));
        int bad = expected.Data.AsSpan().CommonPrefixLength(actual.Data);
        if (bad < expected.Length)
        {
            int c = bad / expected.PlaneSize, y = bad % expected.PlaneSize / expected.Width, x = bad % expected.Width;
            Assert.Fail($"{what}[{c}, {y}, {x}] = {actual.Data[bad]}, reference {expected.Data[bad]}");
        }
    }
}
