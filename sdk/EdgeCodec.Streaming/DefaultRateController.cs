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
        if (sample.IsAppLimited && sample.DeliveryRate <= Throughput && !QueuedBehindTheLink(sample))
        {
            return;
        }

        _rates[_nextRate] = sample.DeliveryRate;
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

    /// <summary>Ring index of the newest entry, given the index the next one goes to.</summary>
    private int Newest(int next) => (next + SampleWindow - 1) % SampleWindow;
}
