using EdgeCodec.Codec;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary><see cref="EdgeCodecEncoder.EncodeWithin"/>: the best stream that fits a byte budget.</summary>
public sealed class ByteBudgetTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private double DecodedPsnr(byte[] container)
    {
        using var ms = new MemoryStream(container, writable: false);
        var frame = EdgeCodecDecoder.Decode(fixture.Pack, ms, new DecoderOptions { Backend = "reference", Threads = 2 }).Frame;
        return CodecFixture.Psnr(fixture.Image, frame.Image);
    }

    /// <summary>Every (quality, layers) stream of the fixture image, its container and its reference-decoded PSNR.</summary>
    private List<(int Quality, int Layers, byte[] Bytes, double Psnr)> AllStreams()
    {
        var all = new List<(int, int, byte[], double)>();
        for (int q = 0; q < fixture.Pack.QualityLevels.Count; q++)
        {
            for (int k = 1; k <= fixture.Pack.Layout.Groups; k++)
            {
                byte[] bytes = fixture.Encoded(q, k).ToContainerBytes();
                all.Add((q, k, bytes, DecodedPsnr(bytes)));
            }
        }

        return all;
    }

    [PackFact]
    public void The_stream_chosen_for_a_budget_fits_and_no_stream_that_fits_decodes_better()
    {
        var all = AllStreams();
        int groups = fixture.Pack.Layout.Groups;
        // Budgets just above every whole level and just below the next one, where a prefix of the next level competes.
        var budgets = new List<long>();
        for (int q = 0; q < fixture.Pack.QualityLevels.Count; q++)
        {
            long whole = all.Single(s => s.Quality == q && s.Layers == groups).Bytes.Length;
            budgets.Add(whole);
            budgets.Add(whole + ((q + 1 < fixture.Pack.QualityLevels.Count
                ? all.Single(s => s.Quality == q + 1 && s.Layers == groups).Bytes.Length - whole : 100) * 9 / 10));
        }

        bool prefixCompeted = false;
        using var plain = new EdgeCodecEncoder(ResidualLayerTests.PlainPack(), new EncoderOptions { Threads = 2 }); // latent layers only
        foreach (long budget in budgets)
        {
            var chosen = plain.EncodeWithin(fixture.Image, budget);
            byte[] bytes = chosen.ToContainerBytes();
            Assert.True(bytes.Length <= budget, $"{bytes.Length} bytes for a budget of {budget}");
            int q = chosen.Header.QualityLevel, k = chosen.Header.LayerCount;
            Assert.Equal(plain.Encode(fixture.Image, q, k).ToContainerBytes(), bytes);

            var fitting = all.Where(s => s.Bytes.Length <= budget).ToList();
            prefixCompeted |= fitting.Any(s => s.Layers < groups && s.Quality > fitting.Where(f => f.Layers == groups).Max(f => f.Quality));
            double best = fitting.Max(s => s.Psnr);
            double psnr = all.Single(s => s.Quality == q && s.Layers == k).Psnr;
            // The encoder judges candidates on the auto backend, the test on the reference: they agree far closer than 0.02 dB.
            Assert.True(psnr >= best - 0.02, $"budget {budget}: chose q{q}/{k} layers at {psnr:F3} dB, best fitting {best:F3} dB");
        }

        Assert.True(prefixCompeted, "no budget put a prefix of a higher level against a whole lower level");
    }

    [PackFact]
    public void With_residual_tables_a_budget_gets_a_residual_layer_where_the_ladder_says_it_pays()
    {
        var pack = fixture.Pack;
        Assert.NotEmpty(pack.ResidualSteps);
        int groups = pack.Layout.Groups;
        bool residualChosen = false;
        foreach (var setting in pack.QualityLadder.Where(s => s.ResidualStep is not null))
        {
            // The ladder's own stream fits its size: what the encoder picks for that budget is at least as good.
            byte[] rung = fixture.Encoder.Encode(fixture.Image, setting).ToContainerBytes();
            var chosen = fixture.Encoder.EncodeWithin(fixture.Image, rung.Length);
            byte[] bytes = chosen.ToContainerBytes();
            Assert.True(bytes.Length <= rung.Length, $"{bytes.Length} bytes for a budget of {rung.Length}");
            double psnr = DecodedPsnr(bytes), rungPsnr = DecodedPsnr(rung);
            Assert.True(psnr >= rungPsnr - 0.02, $"budget {rung.Length} ({setting}): chose {psnr:F3} dB, the rung decodes to {rungPsnr:F3} dB");
            if (chosen.Header.LayerCount == groups + 1)
            {
                residualChosen = true;
                int step = chosen.Packets[^1].Payload.Span[0]; // a residual payload starts with its step index
                Assert.Equal(fixture.Encoder.Encode(fixture.Image, new QualitySetting(chosen.Header.QualityLevel, step)).ToContainerBytes(), bytes);
            }
        }

        Assert.True(residualChosen, "no ladder budget chose a stream with a residual layer");
    }

    [PackFact]
    public void A_budget_above_every_stream_gives_the_top_level_whole_with_the_finest_residual_step()
    {
        var chosen = fixture.Encoder.EncodeWithin(fixture.Image, long.MaxValue);
        Assert.Equal(fixture.Pack.QualityLevels.Count - 1, chosen.Header.QualityLevel);
        Assert.Equal(fixture.Pack.Layout.Groups + 1, chosen.Header.LayerCount);
        int finest = fixture.Pack.ResidualSteps.Select((s, i) => (s, i)).Min().i;
        Assert.Equal(finest, chosen.Packets[^1].Payload.Span[0]);
    }

    [PackFact]
    public void A_budget_below_the_smallest_stream_is_refused_with_that_size()
    {
        int smallest = fixture.Encoded(0, 1).ToContainerBytes().Length;
        Assert.Equal(0, fixture.Encoder.EncodeWithin(fixture.Image, smallest).Header.QualityLevel);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Encoder.EncodeWithin(fixture.Image, smallest - 1));
        Assert.Contains($"{smallest} bytes", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Encoder.EncodeWithin(fixture.Image, 0));
    }
}
