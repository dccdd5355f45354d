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
            foreach (bool pooled in new[] { false, true })
            {
                // A pooled session reuses the arrays of a run on another z: the hand-backs must never let one
                // tile's values into the next.
                TensorPool? pool = pooled ? DirtyPool(pack, v) : null;
                EntropyTileSession session = new IntegerEntropyModel(pack).StartTile(v["z"], dop, pool);
                for (int k = 0; k < pack.Layout.Groups; k++)
                {
                    GroupPrediction p = session.Predict();
                    Assert.Equal(k, p.Group);
                    AssertSame(v[$"mean{k}"], p.Mean, $"mean{k} (dop {dop}, pooled {pooled})");
                    AssertSame(v[$"index{k}"], p.Index, $"index{k} (dop {dop}, pooled {pooled})");
                    session.DecodeGroup(v[$"symbols{k}"].Data);
                }

                AssertSame(v["y"], session.GetLatent(), $"y (dop {dop}, pooled {pooled})");
                if (pool is not null)
                {
                    // Everything but the latent went back: a second tile rents it all again.
                    Assert.True(pool.RetainedBytes > 0);
                    long before = pool.RetainedBytes;
                    pool.Return(session.GetLatent());
                    Assert.Equal(before + ((long)v["y"].Data.Length * sizeof(int)), pool.RetainedBytes);
                }
            }
        }
    }

    [VectorFact]
    public void A_pooled_graph_run_hands_back_its_intermediates_and_keeps_its_outputs()
    {
        ModelPack pack = TestPacks.VectorsPack;
        ModelVectors v = TestPacks.Vectors;
        IntegerGraph hyper = pack.HyperGraph;
        var inputs = new Dictionary<string, Tensor> { ["z"] = v["z"] };
        var expected = (U8Tensor)hyper.Run(inputs, 0)["hyper"];

        var pool = new TensorPool();
        var first = (U8Tensor)hyper.Run(inputs, 0, 1, pool)["hyper"];
        Assert.Equal(expected.Data, first.Data);
        long retained = pool.RetainedBytes;
        Assert.True(retained > 0, "the hyper decoder's intermediates went back to the pool");

        // The second run rents exactly what the first handed back, and hands it back again; the output is new.
        var second = (U8Tensor)hyper.Run(inputs, 0, 2, pool)["hyper"];
        Assert.Equal(expected.Data, second.Data);
        Assert.NotSame(first.Data, second.Data);
        Assert.Equal(retained, pool.RetainedBytes);
    }

    /// <summary>A pool holding the arrays of a whole tile session run on a perturbed z (so: other values).</summary>
    private static TensorPool DirtyPool(ModelPack pack, ModelVectors v)
    {
        var pool = new TensorPool();
        var z = new I32Tensor(v["z"].Channels, v["z"].Height, v["z"].Width, [.. v["z"].Data.Select(x => x ^ 1)]);
        EntropyTileSession session = new IntegerEntropyModel(pack).StartTile(z, 1, pool);
        for (int k = 0; k < pack.Layout.Groups; k++)
        {
            int[] symbols = [.. v[$"symbols{k}"].Data.Select(s => -s)];
            session.DecodeGroup(symbols);
        }

        pool.Return(session.GetLatent());
        return pool;
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
