namespace EdgeCodec.Streaming;

/// <summary>A snapshot of a <see cref="StreamSender"/>'s counters.</summary>
public sealed class StreamSenderStatistics
{
    /// <summary>LATENT messages written, retransmissions included.</summary>
    public long PacketsSent { get; init; }

    /// <summary>LATENT messages written again (timeout or reconnect).</summary>
    public long PacketsRetransmitted { get; init; }

    /// <summary>Packets acknowledged by the receiver.</summary>
    public long PacketsAcknowledged { get; init; }

    /// <summary>Message bytes written (all message types, length prefixes included).</summary>
    public long BytesSent { get; init; }

    /// <summary>Payload bytes of the LATENT messages written.</summary>
    public long PayloadBytesSent { get; init; }

    /// <summary>Frames that first went out with fewer layers than encoded.</summary>
    public long FramesDeferred { get; init; }

    /// <summary>Deferred layers later released for back-fill.</summary>
    public long LayersBackfilled { get; init; }

    /// <summary>Sessions started (HELLO exchanged).</summary>
    public long Connections { get; init; }

    /// <summary>Wire bytes held for retransmission now.</summary>
    public long BufferedBytes { get; init; }

    /// <summary>Adapter packages the receiver reported installed after a push (not those it already held).</summary>
    public long AdaptersInstalled { get; init; }

    /// <summary>Adapter packages the receiver refused after verification.</summary>
    public long AdaptersRejected { get; init; }

    /// <summary>ADAPTER_CHUNK data bytes sent (resends after a reconnect included).</summary>
    public long AdapterBytesSent { get; init; }
}

/// <summary>A snapshot of a <see cref="StreamReceiver"/>'s counters.</summary>
public sealed class StreamReceiverStatistics
{
    /// <summary>LATENT messages received, duplicates included.</summary>
    public long PacketsReceived { get; init; }

    /// <summary>Packets applied (persisted, counted, shown) by this instance: each exactly once.</summary>
    public long PacketsApplied { get; init; }

    /// <summary>Packets recovered from the store when this instance started.</summary>
    public long PacketsRecovered { get; init; }

    /// <summary>Duplicates ignored.</summary>
    public long Duplicates { get; init; }

    /// <summary>Packets dropped unacknowledged because the pending-packet or memory limit was reached.</summary>
    public long Dropped { get; init; }

    /// <summary>Frames whose every layer arrived.</summary>
    public long FramesCompleted { get; init; }

    /// <summary>ACK messages sent.</summary>
    public long AcksSent { get; init; }

    /// <summary>Sessions started (HELLO exchanged).</summary>
    public long Connections { get; init; }

    /// <summary>Memory held now for packets of incomplete frames (bounded by <see cref="StreamReceiverOptions.MaxBufferedBytes"/>).</summary>
    public long BufferedBytes { get; init; }

    /// <summary>Incomplete frames given up under <see cref="StreamReceiverOptions.MaxBufferedBytes"/> or <see cref="StreamReceiverOptions.MaxIncompleteFrames"/>.</summary>
    public long FramesEvicted { get; init; }

    /// <summary>Packets of evicted frames that arrived later: acknowledged, not stored.</summary>
    public long PacketsDiscarded { get; init; }

    /// <summary>Packets released unacknowledged because their frame's HEADER did not come within <see cref="StreamReceiverOptions.OrphanTimeout"/>.</summary>
    public long OrphansExpired { get; init; }

    /// <summary>Display steps dropped because the progressive decoder fell more than <see cref="StreamReceiverOptions.MaxQueuedDisplaySteps"/> behind.</summary>
    public long DisplayStepsDropped { get; init; }

    /// <summary>Times the display decoder was warmed up for a new picture size (<see cref="StreamReceiverOptions.WarmUpDecoder"/>).</summary>
    public long DecoderWarmUps { get; init; }

    /// <summary>Adapter packages received and installed.</summary>
    public long AdaptersInstalled { get; init; }

    /// <summary>
    /// Disk syncs of the store (<see cref="StoreDurability.PowerLoss"/>): at most one per acknowledgement, plus one per
    /// file closed with unsynced appends and one per file recovered at start. Zero with <see cref="StoreDurability.ProcessCrash"/>.
    /// </summary>
    public long StoreSyncs { get; init; }

    /// <summary>Bytes of the store's frame files now (0 without a store).</summary>
    public long StoreBytes { get; init; }

    /// <summary>Completed frames rewritten in the compact layout for <see cref="StreamReceiverOptions.StoreQuotaBytes"/> (lossless).</summary>
    public long FramesCompacted { get; init; }

    /// <summary>Completed frames trimmed to their base layer for <see cref="StreamReceiverOptions.StoreQuotaBytes"/>.</summary>
    public long FramesTrimmed { get; init; }

    /// <summary>Completed frames deleted for <see cref="StreamReceiverOptions.StoreQuotaBytes"/>.</summary>
    public long FramesDeleted { get; init; }

    /// <summary>Adapter packages received and refused (verification failed, hash mismatch, or no installer).</summary>
    public long AdaptersRejected { get; init; }
}
