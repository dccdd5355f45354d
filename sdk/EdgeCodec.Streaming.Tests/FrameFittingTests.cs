using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Format;
using EdgeCodec.Models;

namespace EdgeCodec.Streaming.Tests;

/// <summary>
/// Fitting each frame to the link: <see cref="QualityAdaptation.FrameBudget"/> gives the bytes,
/// <see cref="StreamSender.LinkBytes"/> counts a frame as the sender does, and
/// <see cref="EdgeCodecEncoder.EncodeWithin(RgbImage, long, Func{EncodedImage, long}, uint, uint, ulong)"/> picks the
/// best stream by that count (real model, real frames).
/// </summary>
[Collection("codec-heavy")]
public sealed class FrameFittingTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private const ulong FirstSequence = 1000;

    private EdgeCodecEncoder NewEncoder() => new(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 64 });

    private StreamSender NewSender() => new(new StreamSenderOptions { ModelId = fixture.Pack.ModelId, StreamId = Synthetic.StreamId });

    private double DecodedPsnr(EncodedImage encoded, RgbImage original)
    {
        using var ms = new MemoryStream(encoded.ToContainerBytes(), writable: false);
        var frame = EdgeCodecDecoder.Decode(fixture.Pack, ms, new DecoderOptions { Backend = "reference", Threads = 2 }).Frame;
        double se = 0;
        for (int y = 0; y < original.Height; y++)
        {
            var a = original.Row(y);
            var b = frame.Image.Row(y);
            for (int i = 0; i < a.Length; i++)
            {
                double d = a[i] - b[i];
                se += d * d;
            }
        }

        return 10 * Math.Log10(255.0 * 255.0 * original.Width * original.Height * 3 / se);
    }

    [Fact]
    public async Task A_frame_fitted_to_the_link_fits_as_the_sender_counts_it_and_no_fitting_stream_decodes_better()
    {
        var image = fixture.Images[0];
        using var encoder = NewEncoder();
        int levels = fixture.Pack.QualityLevels.Count, groups = fixture.Pack.Layout.Groups;
        var all = new List<(int Quality, int Layers, long Link, long Container, double Psnr)>();
        for (int q = 0; q < levels; q++)
        {
            for (int k = 1; k <= groups; k++)
            {
                var e = encoder.Encode(image, q, k, Synthetic.StreamId, frameIndex: 3, firstSequence: FirstSequence);
                all.Add((q, k, StreamSender.LinkBytes(e), e.ToContainerBytes(ContainerLayout.Indexed).Length, DecodedPsnr(e, image)));
            }
        }

        bool linkBoughtMore = false;
        // Every whole level's size, and 90 % of the way to the next one (where a prefix of the next level competes).
        var whole = all.Where(s => s.Layers == groups).OrderBy(s => s.Quality).Select(s => s.Link).ToList();
        var budgets = whole.Concat(whole.Zip(whole.Skip(1), (a, b) => a + ((b - a) * 9 / 10))).Order().ToList();
        foreach (long budget in budgets)
        {
            var chosen = encoder.EncodeWithin(image, budget, StreamSender.LinkBytes, Synthetic.StreamId, frameIndex: 3, firstSequence: FirstSequence);
            long link = StreamSender.LinkBytes(chosen);
            Assert.True(link <= budget, $"{link} link bytes for a budget of {budget}");
            int q = chosen.Header.QualityLevel, k = chosen.Header.LayerCount;
            var same = k <= groups
                ? encoder.Encode(image, q, k, Synthetic.StreamId, frameIndex: 3, firstSequence: FirstSequence)
                : encoder.Encode(image, new QualitySetting(q, chosen.Packets[^1].Payload.Span[0]), 0, Synthetic.StreamId, frameIndex: 3, firstSequence: FirstSequence);
            Assert.Equal(same.ToContainerBytes(), chosen.ToContainerBytes());

            // The latent streams that fit; the pack's residual layer (tried too) may only do better.
            double best = all.Where(s => s.Link <= budget).Max(s => s.Psnr);
            double psnr = DecodedPsnr(chosen, image);
            Assert.True(psnr >= best - 0.02, $"budget {budget}: q{q}/{k} layers at {psnr:F3} dB, best fitting {best:F3} dB");

            // Counted as an indexed container (header, index, footer: more bytes than the link's framing for this
            // frame), the same number buys no better a stream, and at some budgets a worse one.
            if (all.Any(s => s.Container <= budget))
            {
                var byContainer = encoder.EncodeWithin(image, budget, e => e.WriteContainer(Stream.Null, ContainerLayout.Indexed), Synthetic.StreamId, frameIndex: 3, firstSequence: FirstSequence);
                double containerPsnr = DecodedPsnr(byContainer, image);
                Assert.True(psnr >= containerPsnr - 0.02);
                linkBoughtMore |= psnr > containerPsnr + 0.05;
            }
        }

        Assert.True(linkBoughtMore, "the link count never bought a better stream than the container count");

        // The sender charges exactly what LinkBytes predicted.
        var fitted = encoder.EncodeWithin(image, all.Max(s => s.Link) - 1, StreamSender.LinkBytes, Synthetic.StreamId, frameIndex: 0, firstSequence: 0);
        Assert.Equal(StreamSender.LinkBytes(fitted), await NewSender().EnqueueAsync(fitted));
    }

    [Fact]
    public void A_link_budget_below_the_smallest_frame_is_refused_with_that_size()
    {
        using var encoder = NewEncoder();
        var image = fixture.Images[1];
        long smallest = StreamSender.LinkBytes(encoder.Encode(image, 0, 1, Synthetic.StreamId));
        Assert.Equal(1, encoder.EncodeWithin(image, smallest, StreamSender.LinkBytes, Synthetic.StreamId).Header.LayerCount);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.EncodeWithin(image, smallest - 1, StreamSender.LinkBytes, Synthetic.StreamId));
        Assert.Contains($"{smallest} bytes", ex.Message);
        Assert.Throws<ArgumentNullException>(() => encoder.EncodeWithin(image, smallest, null!));
    }
}

/// <summary>Tests that encode and decode many streams: run alone, so that they do not starve the timing-sensitive
/// session tests of the CPU on a 2-core machine.</summary>
[CollectionDefinition("codec-heavy", DisableParallelization = true)]
public sealed class CodecHeavyCollection
{
}
