namespace EdgeCodec.Streaming;

/// <summary>
/// The default rate controller: estimates throughput as the maximum delivery rate of the last
/// <see cref="SampleWindow"/> acknowledgements that are at most <see cref="MaxSampleAge"/> old, and the base round
/// trip as their minimum RTT, then keeps the queueing delay (queued bytes / throughput) under <see cref="TargetDelay"/>.
/// </summary>
/// <remarks>
/// Window: <c>max(MinimumWindow, throughput x (baseRtt + TargetDelay))</c>. A new frame gets as many layers as fit
/// within <see cref="TargetDelay"/> of queueing (always the base layer). Deferred layers are back-filled only while
/// queueing is under half of <see cref="TargetDelay"/>, so back-fill never delays new base layers by much.
/// Before the first sample the throughput is <see cref="InitialRate"/>. An app-limited sample
/// (<see cref="RateSample.IsAppLimited"/>) enters the throughput filter only if it is above the current estimate, as in
/// BBR: a camera idling between small frames measures its own frame rate, not the link. Its round trip always counts.
/// An app-limited sample whose round trip exceeds the base round trip by more than <see cref="TargetDelay"/> enters
/// the filter too: it queued behind the link, so the link set its delivery rate (BBR is safe from this case because its
/// congestion window starts small; this window starts at <see cref="InitialRate"/>, which a slow link may be far below).
/// <para>An app-limited sample raises the estimate by at most a quarter: the first bytes after an idle gap may cross a
/// shaper's full bucket at the interface's speed, and every frame of a camera starts after such a gap.</para>
/// <para>A sample that queued for longer than <see cref="TargetDelay"/> behind the sender's own bytes (at least one more
/// packet's worth was delivered while it was in flight) also removes from the throughput filter every sample more than a
/// quarter above it: the link was busy throughout it, so the link sustains about its rate. A maximum filter alone keeps the
/// highest sample for <see cref="MaxSampleAge"/>, and on a slow shaped link the highest one measures the shaper's burst:
/// after an idle gap a token bucket lets its depth through at the interface's speed (seen at 48 kbit/s with a 3 kB
/// <c>tbf</c> burst: an estimate of 8-12 kB/s on a 6 kB/s link).</para>
/// <para>The filters are windowed in time as well as in count, as BBR's are: a camera at one frame a second acknowledges
/// a handful of packets a second, so 32 samples could hold a rate the link lost half a minute ago. A sample older than
/// <see cref="MaxSampleAge"/> leaves the filters, except that the newest sample always stays: a link that has said
/// nothing for a while keeps its last word rather than falling back to <see cref="InitialRate"/>.</para>
/// </remarks>
public sealed class DefaultRateController : IRateController
{
    private readonly double[] _rates;
    private readonly TimeSpan[] _rtts;
    private readonly long[] _rateTimes, _rttTimes;
    private readonly double[] _keptRates;
    private readonly long[] _keptTimes;
    private readonly TimeProvider _time;
    private readonly long _maxAgeTicks;
    private int _rateCount, _nextRate;
    private int _rttCount, _nextRtt;

    /// <summary>Creates a controller with the given settings.</summary>
    /// <param name="targetDelay">Queueing delay to stay under; default 200 ms.</param>
    /// <param name="initialRate">Assumed throughput in bytes/s before the first acknowledgement; default 1 MB/s.</param>
    /// <param name="minimumWindow">Smallest send window in bytes; default 16 KiB.</param>
    /// <param name="sampleWindow">Acknowledgements the max/min filters remember; default 32.</param>
    /// <param name="maxSampleAge">Age after which a sample leaves the filters (the newest stays); default 10 s.</param>
    /// <param name="timeProvider">The clock of <paramref name="maxSampleAge"/>; default <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is not positive.</exception>
    public DefaultRateController(
        TimeSpan? targetDelay = null,
        double initialRate = 1e6,
        long minimumWindow = 16 << 10,
        int sampleWindow = 32,
        TimeSpan? maxSampleAge = null,
        TimeProvider? timeProvider = null)
    {
        TargetDelay = targetDelay ?? TimeSpan.FromMilliseconds(200);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(TargetDelay, TimeSpan.Zero, nameof(targetDelay));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumWindow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleWindow);
        MaxSampleAge = maxSampleAge ?? TimeSpan.FromSeconds(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxSampleAge, TimeSpan.Zero, nameof(maxSampleAge));
        _time = timeProvider ?? TimeProvider.System;
        _maxAgeTicks = (long)Math.Min(MaxSampleAge.TotalSeconds * _time.TimestampFrequency, long.MaxValue / 2);
        InitialRate = initialRate;
        MinimumWindow = minimumWindow;
        SampleWindow = sampleWindow;
        _rates = new double[sampleWindow];
        _rtts = new TimeSpan[sampleWindow];
        _rateTimes = new long[sampleWindow];
        _keptRates = new double[sampleWindow];
        _keptTimes = new long[sampleWindow];
        _rttTimes = new long[sampleWindow];
    }

    /// <summary>Queueing delay the controller keeps the link under.</summary>
    public TimeSpan TargetDelay { get; }

    /// <summary>Throughput assumed before the first sample, bytes/s.</summary>
    public double InitialRate { get; }

    /// <summary>Smallest send window, bytes.</summary>
    public long MinimumWindow { get; }

    /// <summary>Number of recent samples the filters keep.</summary>
    public int SampleWindow { get; }

    /// <summary>Age after which a sample leaves the filters, unless it is the newest.</summary>
    public TimeSpan MaxSampleAge { get; }

    // Most that one app-limited sample can raise the estimate by, as a factor (BBR's probing gain). A link that is
    // faster than believed is still found within a frame or two: each acknowledgement is a sample.
    private const double AppLimitedGrowth = 1.25;

    /// <summary>Current throughput estimate, bytes/s.</summary>
    public double Throughput
    {
        get
        {
            if (_rateCount == 0)
            {
                return InitialRate;
            }

            long oldest = _time.GetTimestamp() - _maxAgeTicks;
            double max = _rates[Newest(_nextRate)];
            for (int i = 0; i < _rateCount; i++)
            {
                if (_rateTimes[i] >= oldest)
                {
                    max = Math.Max(max, _rates[i]);
                }
            }

            return Math.Max(max, 1);
        }
    }

    /// <inheritdoc/>
    public double EstimatedThroughput => Throughput;

    /// <summary>Current base round-trip estimate (zero before the first sample).</summary>
    public TimeSpan BaseRoundTrip
    {
        get
        {
            if (_rttCount == 0)
            {
                return TimeSpan.Zero;
            }

            long oldest = _time.GetTimestamp() - _maxAgeTicks;
            var min = _rtts[Newest(_nextRtt)];
            for (int i = 0; i < _rttCount; i++)
            {
                if (_rttTimes[i] >= oldest && _rtts[i] < min)
                {
                    min = _rtts[i];
                }
            }

            return min;
        }
    }

    /// <inheritdoc/>
    public void OnAcknowledged(RateSample sample)
    {
        if (sample.DeliveryRate <= 0 || double.IsNaN(sample.DeliveryRate))
        {
            return;
        }

        long now = _time.GetTimestamp();
        _rtts[_nextRtt] = sample.RoundTrip;
        _rttTimes[_nextRtt] = now;
        _nextRtt = (_nextRtt + 1) % SampleWindow;
        _rttCount = Math.Min(_rttCount + 1, SampleWindow);
        bool queued = QueuedBehindTheLink(sample);
        double deliveryRate = sample.DeliveryRate;
        if (sample.IsAppLimited && !queued)
        {
            double estimate = Throughput;
            if (deliveryRate <= estimate)
            {
                return;
            }

            // News, but at most AppLimitedGrowth times the estimate per sample: the first bytes after an idle gap may
            // cross a shaper's full bucket at the interface's speed, and a camera's every frame starts after one.
            deliveryRate = Math.Min(deliveryRate, estimate * AppLimitedGrowth);
        }

        if (queued && QueuedBehindItsOwnBytes(sample))
        {
            // The link was busy for the whole of this sample, so it sustains about this rate now: a sample in the
            // filter more than a quarter above it measured a burst (a token bucket's after an idle gap, a rush of
            // compressed acknowledgements) or a link that is gone. Lower ones stay: this sample's interval may have
            // begun before an idle gap and measured less than the link.
            ForgetRatesAbove(deliveryRate * AppLimitedGrowth);
        }

        _rates[_nextRate] = deliveryRate;
        _rateTimes[_nextRate] = now;
        _nextRate = (_nextRate + 1) % SampleWindow;
        _rateCount = Math.Min(_rateCount + 1, SampleWindow);
    }

    /// <summary>
    /// Whether an app-limited sample waited in a queue for longer than <see cref="TargetDelay"/>: then the link, not
    /// the application, set its pace, whatever the sender's window allowed. Without this, an estimate above the real
    /// rate (the optimistic <see cref="InitialRate"/> on a slow link) opens a window the sender never fills, every
    /// sample is app-limited, and the estimate can never fall (seen on a 48 kbit/s link: 1 MB/s for a whole run
    /// while the backlog grew to 58 KB).
    /// </summary>
    private bool QueuedBehindTheLink(RateSample sample) => sample.RoundTrip > BaseRoundTrip + TargetDelay;

    /// <summary>
    /// Whether at least one more packet's worth of the sender's own bytes was delivered while this one was in flight,
    /// so that the link's queue, and not a pause at the receiver or on the path, can explain its delay. A camera's lone
    /// packet delayed by a receiver busy for 300 ms is not evidence of a slow link (seen on a loaded 2-core machine:
    /// such a sample removed a 1.2 MB/s measurement and left 41 kB/s).
    /// </summary>
    private static bool QueuedBehindItsOwnBytes(RateSample sample) => sample.DeliveryRate * sample.RoundTrip.TotalSeconds >= 2.0 * sample.AckedBytes;

    /// <inheritdoc/>
    public void OnConnectionStarted()
    {
        // Keep the estimate: a reconnect after an outage is usually the same link. The max filter ages it out.
    }

    /// <inheritdoc/>
    public long GetSendWindow() => Math.Max(MinimumWindow, (long)(Throughput * (BaseRoundTrip + TargetDelay).TotalSeconds));

    /// <inheritdoc/>
    public int ChooseLayers(IReadOnlyList<long> layerBytes, long queuedBytes)
    {
        ArgumentNullException.ThrowIfNull(layerBytes);
        double budget = Throughput * TargetDelay.TotalSeconds;
        double total = queuedBytes;
        int layers = 0;
        foreach (long bytes in layerBytes)
        {
            total += bytes;
            if (layers > 0 && total > budget)
            {
                break;
            }

            layers++;
        }

        return Math.Max(1, layers);
    }

    /// <inheritdoc/>
    public bool CanBackfill(long layerBytes, long queuedBytes) => queuedBytes + layerBytes <= Throughput * TargetDelay.TotalSeconds / 2 || queuedBytes == 0;

    /// <summary>Removes the throughput samples above <paramref name="ceiling"/>, keeping the others in order.</summary>
    private void ForgetRatesAbove(double ceiling)
    {
        int kept = 0;
        for (int i = 0; i < _rateCount; i++)
        {
            int at = (_nextRate - _rateCount + i + SampleWindow) % SampleWindow; // oldest first
            if (_rates[at] <= ceiling)
            {
                _keptRates[kept] = _rates[at];
                _keptTimes[kept] = _rateTimes[at];
                kept++;
            }
        }

        Array.Copy(_keptRates, _rates, kept);
        Array.Copy(_keptTimes, _rateTimes, kept);
        _rateCount = kept;
        _nextRate = kept % SampleWindow;
    }

    /// <summary>Ring index of the newest entry, given the index the next one goes to.</summary>
    private int Newest(int next) => (next + SampleWindow - 1) % SampleWindow;
}
