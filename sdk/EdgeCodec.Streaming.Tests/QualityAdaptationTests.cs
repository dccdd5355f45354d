using System.Text.Json.Nodes;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Streaming.Tests;

public sealed class QualityAdaptationTests
{
    private const long Pixels = 512 * 512;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    // Level l costs 1000 * 2^l bytes for this scene: complexity chosen so that level 0 = 1000 bytes.
    private static QualityAdaptation Adaptation(int initial = 0) =>
        new(6, Interval, [1, 2, 4, 8, 16, 32], initial);

    private static LinkEstimate Link(double bytesPerFrame, long backlog = 0) =>
        new(bytesPerFrame / Interval.TotalSeconds, backlog, 0);

    [Fact]
    public void Stays_at_the_initial_level_until_a_frame_size_is_known()
    {
        var a = Adaptation(initial: 2);
        Assert.Equal(2, a.Choose(Pixels, Link(1e9)));
        Assert.True(double.IsNaN(a.PredictBytes(3, Pixels)));
        a.Observe(2, Pixels, 4000);
        Assert.Equal(8000, a.PredictBytes(3, Pixels), 6);
        Assert.Equal(3, a.Choose(Pixels, Link(1e9)));
    }

    [Fact]
    public void Climbs_one_level_per_frame_on_a_fast_link_and_stops_at_the_top()
    {
        var a = Adaptation();
        a.Observe(0, Pixels, 1000);
        var chosen = Enumerable.Range(0, 8).Select(_ => a.Choose(Pixels, Link(1e9))).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 5, 5, 5], chosen);
    }

    [Fact]
    public void Drops_at_once_to_the_highest_level_that_fits_when_the_link_slows()
    {
        var a = Adaptation(initial: 5);
        a.Observe(5, Pixels, 32000);
        Assert.Equal(5, a.Choose(Pixels, Link(1e9)));

        // 0.8 x 6000 bytes per frame interval: level 2 (4000 bytes) fits, level 3 (8000) does not.
        Assert.Equal(2, a.Choose(Pixels, Link(6000)));

        // Nothing fits: the lowest level still goes out (layers are then deferred by the rate controller).
        Assert.Equal(0, a.Choose(Pixels, Link(100)));
    }

    [Fact]
    public void A_backlog_longer_than_one_frame_interval_lowers_the_level()
    {
        var a = Adaptation(initial: 4);
        a.Observe(4, Pixels, 16000);
        Assert.Equal(4, a.Choose(Pixels, Link(30000)));               // budget 24000: 16000 fits, 32000 does not
        Assert.Equal(4, a.Choose(Pixels, Link(30000, backlog: 30000))); // one interval queued: no penalty yet
        Assert.Equal(3, a.Choose(Pixels, Link(30000, backlog: 45000))); // 15000 beyond it: budget 9000 -> level 3
    }

    [Fact]
    public void The_frame_budget_is_the_budget_the_levels_are_chosen_against()
    {
        var a = Adaptation();
        Assert.Equal(4800, a.FrameBudget(Link(6000)));                  // 0.8 x one interval
        Assert.Equal(24000, a.FrameBudget(Link(30000, backlog: 30000))); // one interval queued: no penalty yet
        Assert.Equal(9000, a.FrameBudget(Link(30000, backlog: 45000)));  // 15000 beyond it
        Assert.Equal(0, a.FrameBudget(Link(100, backlog: 1_000_000)));   // no room: never negative
        Assert.Equal(0, a.FrameBudget(new LinkEstimate(-5, 0, 0)));

        // Choose fits its predictions to the same number: level 3 (8000 bytes) fits 9000, level 4 does not.
        a.Observe(0, Pixels, 1000);
        var fast = Link(1e9);
        for (int i = 0; i < 5; i++)
        {
            a.Choose(Pixels, fast);
        }

        Assert.Equal(3, a.Choose(Pixels, Link(30000, backlog: 45000)));
        Assert.True(a.PredictBytes(3, Pixels) <= a.FrameBudget(Link(30000, backlog: 45000)));
        Assert.True(a.PredictBytes(4, Pixels) > a.FrameBudget(Link(30000, backlog: 45000)));
    }

    [Fact]
    public void Learns_the_scene_from_every_observed_frame()
    {
        var a = Adaptation(initial: 3);
        a.Observe(3, Pixels, 8000);
        Assert.Equal(3, a.Choose(Pixels, Link(12000)));

        // The scene gets busier: frames come out 3x larger than predicted; the level falls as the estimate follows.
        for (int i = 0; i < 6; i++)
        {
            a.Observe(a.Current, Pixels, (long)(3 * a.PredictBytes(a.Current, Pixels)));
            a.Choose(Pixels, Link(12000));
        }

        Assert.True(a.Current <= 1, $"level {a.Current}");
    }

    [Fact]
    public void Closed_loop_on_a_fixed_rate_link_keeps_frames_within_the_budget()
    {
        // Scene complexity wanders; sizes follow the default geometric profile. Sustained bytes per frame must stay
        // under the link's capacity per frame, and the chosen level must not sit below what fits.
        var rng = new Random(7);
        var a = new QualityAdaptation(6, Interval);
        const double capacity = 20000; // bytes per frame interval
        double complexity = 0.02;      // bytes per pixel at level 0
        double sent = 0, ideal = 0;
        int frames = 400;
        for (int f = 0; f < frames; f++)
        {
            complexity *= Math.Exp((rng.NextDouble() - 0.5) * 0.1);
            complexity = Math.Clamp(complexity, 0.005, 0.05);
            int q = a.Choose(Pixels, Link(capacity));
            long bytes = (long)(complexity * Math.Pow(QualityAdaptation.DefaultLevelRatio, q) * Pixels);
            a.Observe(q, Pixels, bytes);
            sent += bytes;
            // An oracle that knows this frame's sizes: the largest level within the headroom.
            ideal += Enumerable.Range(0, 6).Select(l => complexity * Math.Pow(QualityAdaptation.DefaultLevelRatio, l) * Pixels)
                .Where((b, l) => l == 0 || b <= a.Headroom * capacity).Max();
        }

        Assert.True(sent / frames <= capacity, $"{sent / frames:F0} bytes per frame on a {capacity} link");
        Assert.True(sent >= 0.85 * ideal, $"{sent / frames:F0} bytes per frame vs the oracle's {ideal / frames:F0}");
    }

    [Fact]
    public void Over_the_pack_ladder_it_predicts_with_the_rates_the_pack_states_and_chooses_its_settings()
    {
        byte[] bytes = File.ReadAllBytes(ModelPack.FindDefaultPath());
        var bundled = ModelPack.Load(new MemoryStream(bytes));
        int n = bundled.QualityLadder.Count;
        Assert.True(n > bundled.QualityLevels.Count, "the bundled pack has a quality ladder with residual layers");

        // Rates that are not geometric, so that a prediction from them differs from the default profile.
        double[] rates = [.. Enumerable.Range(0, n).Select(i => 0.08 + (0.1 * i * i))];
        var pack = ModelPack.Load(new MemoryStream(PackEditor.EditManifest(bytes,
            m => m["residual"]!["ladder_bpp"] = new JsonArray([.. rates.Select(r => (JsonNode?)r)]))));
        var a = QualityAdaptation.ForLadder(pack, Interval, initialSetting: 2);
        Assert.Equal(n, a.Levels);
        Assert.Equal(pack.QualityLadder, a.Settings);
        Assert.Equal(pack.QualityLadder[2], a.CurrentSetting);

        a.Observe(2, Pixels, 5000);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(5000 * rates[i] / rates[2], a.PredictBytes(i, Pixels), 6);
        }

        // The highest setting whose prediction fits 0.8 of the link's bytes per frame, reached at once from above.
        double perFrame = 5000 * rates[n - 2] / rates[2] / 0.8 * 1.01;
        var high = QualityAdaptation.ForLadder(pack, Interval, initialSetting: n - 1);
        high.Observe(n - 1, Pixels, (long)(5000 * rates[n - 1] / rates[2]));
        Assert.Equal(n - 2, high.Choose(Pixels, Link(perFrame)));
        Assert.Equal(pack.QualityLadder[n - 2], high.CurrentSetting);

        // A pack that states no rates: the default ratio per setting; and the levels-only constructor's settings.
        var plain = QualityAdaptation.ForLadder(bundled.QualityLadderBitsPerPixel.Count == 0 ? bundled : ModelPack.Load(new MemoryStream(
            PackEditor.EditManifest(bytes, m => m["residual"]!.AsObject().Remove("ladder_bpp")))), Interval);
        plain.Observe(0, Pixels, 1000);
        Assert.Equal(1000 * Math.Pow(QualityAdaptation.DefaultLevelRatio, n - 1), plain.PredictBytes(n - 1, Pixels), 6);
        Assert.Equal([new QualitySetting(0, null), new QualitySetting(1, null)], new QualityAdaptation(2, Interval).Settings);
        Assert.Throws<ArgumentOutOfRangeException>(() => QualityAdaptation.ForLadder(pack, Interval, initialSetting: n));
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QualityAdaptation(0, Interval));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QualityAdaptation(6, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QualityAdaptation(6, Interval, initialLevel: 6));
        Assert.Throws<ArgumentException>(() => new QualityAdaptation(3, Interval, [1, 2]));
        Assert.Throws<ArgumentException>(() => new QualityAdaptation(3, Interval, [1, 0.5, 2]));
        Assert.Throws<ArgumentException>(() => new QualityAdaptation(2, Interval, [0, 1]));
        var a = Adaptation();
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Observe(6, Pixels, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Observe(0, Pixels, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Choose(0, Link(1)));
    }

    [Fact]
    public async Task Idle_gaps_between_small_frames_do_not_collapse_the_throughput_estimate()
    {
        // A low-frame-rate camera on a 1 MB/s link: a burst measures the link, then small frames with idle gaps. Their
        // ACKs used to be timed from the last ACK before the gap, which measured the camera's frame rate, and 40 of
        // them filled the filter: the estimate fell to a few kB/s and quality adaptation would have starved the stream.
        var rate = new DefaultRateController(initialRate: 50e3);
        using var session = new EmulatedSession(rate, 1e6, latencyMs: 5, seed: 1, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        var sender = session.Sender;
        var rng = new Random(8);
        await Sessions.EnqueueAllAsync(sender, Synthetic.Frames(rng, 12, 2, 2, 1, 6000, 8000), complete: false);
        await session.DrainAsync(pollMilliseconds: 2);
        double measured = rate.Throughput;

        foreach (var frame in Synthetic.Frames(rng, 40, 1, 1, 1, 300, 500, firstSequence: 48, firstFrame: 12))
        {
            await sender.EnqueueAsync(frame.Header, frame.Packets);
            await session.DrainAsync(pollMilliseconds: 2);
            await Task.Delay(40, session.Timeout.Token);
        }

        double afterIdle = rate.Throughput;
        await session.FinishAsync();
        Assert.True(measured > 300e3, $"the burst measured {measured:F0} B/s on a 1 MB/s link");
        Assert.True(afterIdle >= 0.5 * measured, $"{afterIdle:F0} B/s after the idle phase, {measured:F0} B/s before");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_link_far_slower_than_the_initial_estimate_is_measured(bool lossy)
    {
        // A 10 kB/s link under the default 1 MB/s start estimate, offered 16 kB/s: the send window (1 MB/s x 200 ms)
        // is never full, and the frames queue behind the link. The estimate must come down to the link's rate.
        // (The controller's own rule for app-limited samples that queued is tested in ProtocolTests; this checks the
        // sender's sampling and the controller together.) With loss detection on (a relay that may drop messages) and
        // the default 250 ms retransmission floor, the queue soon holds more than the timeout: a timeout that does not
        // restart with each ACK retransmitted every queued packet, added its copies to the queue and kept no sample
        // (retransmissions are not sampled), so the estimate never left 1 MB/s (66 of 98 packets resent; seen in netns
        // at 48 kbit/s: level 5 for 48 frames, 170 kB of backlog).
        var rate = new DefaultRateController();
        using var session = new EmulatedSession(rate, 10e3, latencyMs: 20, seed: 2, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), lossy);
        var sender = session.Sender;

        // 8 frames of ~4 kB every 250 ms: 16 kB/s offered to a 10 kB/s link.
        await session.PaceAsync(Synthetic.Frames(new Random(4), 8, 2, 1, 2, 900, 1100), 250);

        await session.DrainAsync();
        double measured = rate.Throughput;
        var stats = sender.Statistics;
        await session.FinishAsync();
        Assert.InRange(measured, 5e3, 20e3);
        Assert.True(stats.PacketsRetransmitted * 4 <= stats.PacketsSent, $"{stats.PacketsRetransmitted} of {stats.PacketsSent} packets retransmitted on a lossless link");
    }

    [Theory]
    [InlineData(0, 0, 250)]
    [InlineData(100, 0, 250)]
    [InlineData(0, 3000, 1000)]
    [InlineData(100, 3000, 1000)]
    public async Task The_estimate_of_a_slow_link_does_not_overshoot(double ackBurstMs, double bucketBytes, int frameIntervalMs)
    {
        // A 6 kB/s link (48 kbit/s), offered 1.3-1.7 times its rate for 8 s in frames of ~2 kB (250 ms apart) or ~10 kB
        // (one a second), with its acknowledgements arriving in bursts (ackBurstMs) and/or shaped by a token bucket
        // (bucketBytes, as netns's tbf). The estimate, read every 100 ms from 3 s on, must stay near the link's rate:
        // quality adaptation spends what it believes the link carries, so an overshoot is a standing queue (seen at
        // 48 kbit/s in netns: the estimate at 8-12 kB/s).
        var rate = new DefaultRateController();
        using var session = new EmulatedSession(rate, 6e3, latencyMs: 20, seed: 6, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(120), ackBurstMs: ackBurstMs, bucketBytes: bucketBytes);
        var estimates = new List<double>();
        int frames = 8_000 / frameIntervalMs, perFrame = frameIntervalMs / 100; // packets of ~1 kB: 8-10 kB/s
        var pace = session.PaceAsync(Synthetic.Frames(new Random(7), frames, perFrame, 1, 1, 900, 1100), frameIntervalMs);
        await Task.Delay(3000);
        while (!pace.IsCompleted)
        {
            estimates.Add(rate.Throughput);
            await Task.Delay(100);
        }

        await pace;
        await session.DrainAsync();
        await session.FinishAsync();
        estimates.Sort();
        double median = estimates[estimates.Count / 2], high = estimates[^1];
        // Before the filter forgot samples above one that queued: 7.2 kB/s with the acknowledgement bursts alone and
        // ~30 kB/s behind the bucket (its 3 kB crossing at once after each second's idle gap, held by the max filter).
        // Behind the bucket that regression is far above `high`'s bound, so its median may sit a little higher: with
        // the codec tests running beside it (the solution's test run) the fixed filter measured a 7.23 kB/s median
        // once with bursts and bucket together (session 34's CI dry run; 4 of 4 cases pass alone).
        double medianBound = bucketBytes > 0 ? 7.5e3 : 7.2e3;
        Assert.True(median > 4.8e3 && median < medianBound && high < 8.4e3, $"ack bursts {ackBurstMs} ms, bucket {bucketBytes} B, frames every {frameIntervalMs} ms on a 6 kB/s link: median estimate {median:F0} B/s, highest {high:F0} B/s ({estimates.Count} reads)");
    }

    [Fact]
    public async Task A_burst_that_queues_for_seconds_is_not_retransmitted()
    {
        // 40 kB at once on a lossless 10 kB/s link, with loss detection on: the last packets wait 4 s, far past any round trip measured before
        // them. The retransmission timer restarts with each acknowledgement (RFC 6298 5.3) and a packet counts as lost
        // only when a later one was acknowledged (RACK), so nothing is sent twice. A timer that runs from each packet's
        // send retransmits the tail of the burst, which then queues behind the originals. The minimum timeout is 2 s:
        // half the tail's 4 s wait, so a per-send timer would still resend ~20 of the 40 packets, but longer than the
        // pauses a loaded 2-core CI machine puts between two acknowledgements (with 250 ms, one such pause fired the
        // timer once and resent the whole flight: 40 of 80, session 40; with 1 s, 39 of 79 once in session 44, while
        // another test assembly decoded pictures on both cores).
        var rate = new DefaultRateController();
        using var session = new EmulatedSession(rate, 10e3, latencyMs: 20, seed: 3, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), lossy: true);
        var sender = session.Sender;

        // One small frame first, so that the round trip is measured and both ends are past their first-use costs (a
        // cold process on a loaded machine can take over a second to answer its first packet, which a timeout may
        // rightly take for a loss).
        var frames = Synthetic.Frames(new Random(5), 11, 2, 2, 1, 900, 1100);
        await Sessions.EnqueueAllAsync(sender, frames.Take(1), complete: false);
        await session.DrainAsync();
        var warm = sender.Statistics;
        await Sessions.EnqueueAllAsync(sender, frames.Skip(1), complete: false);
        await session.DrainAsync();

        var stats = sender.Statistics;
        await session.FinishAsync();
        Assert.Equal(44, stats.PacketsAcknowledged);
        long retransmitted = stats.PacketsRetransmitted - warm.PacketsRetransmitted;
        Assert.True(retransmitted <= 2, $"{retransmitted} of {stats.PacketsSent - warm.PacketsSent} packets of the burst retransmitted on a lossless link");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stall_on_a_reliable_transport_resends_nothing_and_a_lossy_one_resends(bool lossy)
    {
        // A link that carries nothing for 1.5 s (both ways) while frames keep coming: on a byte stream that loses
        // nothing (the default, TCP) the packets are only late, and a resend would queue behind them; with
        // LossyTransport the silence is a loss, and the retransmission timeout resends what is in flight.
        var rate = new DefaultRateController();
        using var session = new EmulatedSession(rate, 0, latencyMs: 10, seed: 4, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), lossy, [(400, 100e3), (1900, 0), (double.MaxValue, 100e3)]);
        var sender = session.Sender;
        await session.PaceAsync(Synthetic.Frames(new Random(6), 12, 2, 1, 2, 900, 1100), 150);

        await session.FinishAsync();
        var stats = sender.Statistics;
        Assert.Equal(48, stats.PacketsAcknowledged);
        if (lossy)
        {
            Assert.True(stats.PacketsRetransmitted > 0, "the timeout never fired during a 1.5 s silence");
        }
        else
        {
            Assert.Equal(0, stats.PacketsRetransmitted);
        }
    }

    [Fact]
    public async Task The_sender_reports_wire_bytes_and_a_backlog_that_drains_as_packets_are_acknowledged()
    {
        var frames = Synthetic.Frames(new Random(3), 2, 2, 2, 3, 200, 400);
        var sender = Sessions.Sender();
        long wire = await sender.EnqueueAsync(frames[0].Header, frames[0].Packets);
        long payload = frames[0].Packets.Sum(p => (long)p.Payload.Length);
        Assert.InRange(wire, payload + 1, payload + (64 * frames[0].Packets.Count));

        // Before sending: the undecided frame's base layer is the backlog (refinements may be deferred).
        var before = sender.Link;
        Assert.InRange(before.BacklogBytes, 1, wire - 1);
        Assert.Equal(0, before.InFlightBytes);
        Assert.True(before.Throughput > 0);

        await sender.EnqueueAsync(frames[1].Header, frames[1].Packets);
        sender.Complete();
        var receiver = Sessions.Receiver(null);
        await Sessions.FinishAsync(sender, receiver);
        Assert.Equal(0, sender.Link.BacklogBytes);
    }

    /// <summary>A sender and a receiver running over one emulated link of fixed bandwidth and latency.</summary>
    private sealed class EmulatedSession : IDisposable
    {
        private readonly StreamReceiver _receiver;
        private readonly LinkConnection _link;

        public EmulatedSession(IRateController rate, double bytesPerSecond, double latencyMs, int seed, TimeSpan retransmitTimeout, TimeSpan keepAlive, TimeSpan idleTimeout, TimeSpan timeout, bool lossy = false, IReadOnlyList<(double UntilMs, double Rate)>? trace = null, double ackBurstMs = 0, double bucketBytes = 0)
        {
            Sender = new StreamSender(new StreamSenderOptions
            {
                ModelId = Synthetic.ModelId, StreamId = Synthetic.StreamId, RateController = rate, LossyTransport = lossy,
                MinRetransmitTimeout = retransmitTimeout, KeepAliveInterval = keepAlive, IdleTimeout = idleTimeout,
            });
            _receiver = Sessions.Receiver(null);
            _link = new LinkEmulator(new LinkProfile { BandwidthTrace = trace ?? [(double.MaxValue, bytesPerSecond)], LatencyMs = latencyMs, AckBurstMs = ackBurstMs, BucketBytes = bucketBytes }, seed).Connect(0);
            Timeout = new CancellationTokenSource(timeout);
            SenderRun = Sender.RunAsync(_link.SenderSide, Timeout.Token);
            ReceiverRun = _receiver.RunAsync(_link.ReceiverSide, Timeout.Token);
        }

        public StreamSender Sender { get; }

        public CancellationTokenSource Timeout { get; }

        public Task<bool> SenderRun { get; }

        public Task<bool> ReceiverRun { get; }

        /// <summary>Enqueues the frames one every <paramref name="intervalMilliseconds"/>, as a camera would.</summary>
        public async Task PaceAsync(IEnumerable<Synthetic.Frame> frames, int intervalMilliseconds)
        {
            foreach (var frame in frames)
            {
                await Sender.EnqueueAsync(frame.Header, frame.Packets);
                await Task.Delay(intervalMilliseconds, Timeout.Token);
            }
        }

        /// <summary>Waits until everything enqueued has been acknowledged.</summary>
        public async Task DrainAsync(int pollMilliseconds = 10)
        {
            while (Sender.Link.BacklogBytes > 0 || Sender.Link.InFlightBytes > 0)
            {
                await Task.Delay(pollMilliseconds, Timeout.Token);
            }
        }

        /// <summary>Completes the sender and waits for both ends to finish cleanly.</summary>
        public async Task FinishAsync()
        {
            Sender.Complete();
            Assert.True(await SenderRun);
            await ReceiverRun;
        }

        public void Dispose()
        {
            _receiver.Dispose();
            _link.Dispose();
            Timeout.Dispose();
        }
    }
}
