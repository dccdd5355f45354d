namespace EdgeCodec.Streaming;

/// <summary>
/// The default rate controller: estimates throughput as the maximum delivery rate of the last
/// <see cref="SampleWindow"/> acknowledgements and the base round trip as their minimum RTT, then keeps the queueing
/// delay (queued bytes / throughput) under <see cref="TargetDelay"/>.
/// </summary>
/// <remarks>
/// Window: <c>max(MinimumWindow, throughput x (baseRtt + TargetDelay))</c>. A new frame gets as many layers as fit
/// within <see cref="TargetDelay"/> of queueing (always the base layer). Deferred layers are back-filled only while
/// queueing is under half of <see cref="TargetDelay"/>, so back-fill never delays new base layers by much.
/// Before the first sample the throughput is <see cref="InitialRate"/>. An app-limited sample
/// (<see cref="RateSample.IsAppLimited"/>) enters the throughput filter only if it is above the current estimate, as in
/// BBR: a camera idling between small frames measures its own frame rate, not the link. Its round trip always counts.
/// </remarks>
public sealed class DefaultRateController : IRateController
{
    private readonly double[] _rates;
    private readonly TimeSpan[] _rtts;
    private int _rateCount, _nextRate;
    private int _rttCount, _nextRtt;

    /// <summary>Creates a controller with the given settings.</summary>
    /// <param name="targetDelay">Queueing delay to stay under; default 200 ms.</param>
    /// <param name="initialRate">Assumed throughput in bytes/s before the first acknowledgement; default 1 MB/s.</param>
    /// <param name="minimumWindow">Smallest send window in bytes; default 16 KiB.</param>
    /// <param name="sampleWindow">Acknowledgements the max/min filters remember; default 32.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is not positive.</exception>
    public DefaultRateController(TimeSpan? targetDelay = null, double initialRate = 1e6, long minimumWindow = 16 << 10, int sampleWindow = 32)
    {
        TargetDelay = targetDelay ?? TimeSpan.FromMilliseconds(200);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(TargetDelay, TimeSpan.Zero, nameof(targetDelay));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumWindow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleWindow);
        InitialRate = initialRate;
        MinimumWindow = minimumWindow;
        SampleWindow = sampleWindow;
        _rates = new double[sampleWindow];
        _rtts = new TimeSpan[sampleWindow];
    }

    /// <summary>Queueing delay the controller keeps the link under.</summary>
    public TimeSpan TargetDelay { get; }

    /// <summary>Throughput assumed before the first sample, bytes/s.</summary>
    public double InitialRate { get; }

    /// <summary>Smallest send window, bytes.</summary>
    public long MinimumWindow { get; }

    /// <summary>Number of recent samples the filters keep.</summary>
    public int SampleWindow { get; }

    /// <summary>Current throughput estimate, bytes/s.</summary>
    public double Throughput
    {
        get
        {
            if (_rateCount == 0)
            {
                return InitialRate;
            }

            double max = 0;
            for (int i = 0; i < _rateCount; i++)
            {
                max = Math.Max(max, _rates[i]);
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
            var min = TimeSpan.MaxValue;
            for (int i = 0; i < _rttCount; i++)
            {
                min = _rtts[i] < min ? _rtts[i] : min;
            }

            return _rttCount == 0 ? TimeSpan.Zero : min;
        }
    }

    /// <inheritdoc/>
    public void OnAcknowledged(RateSample sample)
    {
        if (sample.DeliveryRate <= 0 || double.IsNaN(sample.DeliveryRate))
        {
            return;
        }

        _rtts[_nextRtt] = sample.RoundTrip;
        _nextRtt = (_nextRtt + 1) % SampleWindow;
        _rttCount = Math.Min(_rttCount + 1, SampleWindow);
        if (sample.IsAppLimited && sample.DeliveryRate <= Throughput)
        {
            return;
        }

        _rates[_nextRate] = sample.DeliveryRate;
        _nextRate = (_nextRate + 1) % SampleWindow;
        _rateCount = Math.Min(_rateCount + 1, SampleWindow);
    }

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
}
