namespace EdgeCodec.Streaming;

/// <summary>
/// Decides how much the <see cref="StreamSender"/> puts on the link: the bytes allowed in flight, how many layers of a
/// new frame go out now, and when deferred refinement layers may be back-filled. Called under the sender's lock from
/// one thread at a time; implementations need no locking and must not block.
/// </summary>
/// <remarks>The default is <see cref="DefaultRateController"/>.</remarks>
public interface IRateController
{
    /// <summary>Reports one acknowledged packet that was sent once on the current connection (retransmissions are not reported).</summary>
    /// <param name="sample">Delivery-rate and round-trip sample.</param>
    void OnAcknowledged(RateSample sample);

    /// <summary>Bytes per second the link is currently believed to carry (drives <see cref="QualityAdaptation"/>).</summary>
    double EstimatedThroughput { get; }

    /// <summary>Called when a connection starts: in-flight data was lost with the old one.</summary>
    void OnConnectionStarted();

    /// <summary>Bytes the sender may have in flight (sent, not acknowledged) before it waits.</summary>
    /// <returns>A positive byte count.</returns>
    long GetSendWindow();

    /// <summary>Chooses how many layers of a frame to send now; the rest are deferred for back-fill.</summary>
    /// <param name="layerBytes">Wire bytes of each layer of the frame, base layer first.</param>
    /// <param name="queuedBytes">Bytes already sent and unacknowledged, plus bytes released and not yet sent.</param>
    /// <returns>1 .. <c>layerBytes.Count</c>; other values are clamped.</returns>
    int ChooseLayers(IReadOnlyList<long> layerBytes, long queuedBytes);

    /// <summary>Whether a deferred layer of <paramref name="layerBytes"/> may be sent now, with nothing newer waiting.</summary>
    /// <param name="layerBytes">Wire bytes of the layer.</param>
    /// <param name="queuedBytes">Bytes sent and unacknowledged.</param>
    /// <returns>True to send it.</returns>
    bool CanBackfill(long layerBytes, long queuedBytes);
}

/// <summary>One acknowledgement sample for an <see cref="IRateController"/>.</summary>
/// <param name="AckedBytes">Wire bytes of the acknowledged packet.</param>
/// <param name="DeliveryRate">Bytes per second delivered between the packet's send and its acknowledgement (BBR-style delivery rate).</param>
/// <param name="RoundTrip">Time from sending the packet to receiving its acknowledgement.</param>
/// <param name="IsAppLimited">The packet went out while the sender had nothing more to send (a camera between frames): its
/// delivery rate is a lower bound that measures the application, not the link, and should not lower an estimate.</param>
public readonly record struct RateSample(long AckedBytes, double DeliveryRate, TimeSpan RoundTrip, bool IsAppLimited = false);
