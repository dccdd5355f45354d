namespace EdgeCodec.Streaming;

/// <summary>
/// What a stored packet survives once the receiver has acknowledged it (<see cref="StreamReceiverOptions.Durability"/>).
/// The sender drops an acknowledged packet from its retransmission buffer, so this is also what a stream survives.
/// </summary>
public enum StoreDurability
{
    /// <summary>
    /// Every append is flushed to the operating system before its acknowledgement: the store survives the receiver
    /// process being killed at any instant, not a power cut (the OS may not have written its cache yet). No disk sync.
    /// </summary>
    ProcessCrash = 0,

    /// <summary>
    /// Before each acknowledgement the receiver also syncs the files written since the last one, and the store folder
    /// when it created a file, to the storage device (<c>fsync</c>; <c>FlushFileBuffers</c> on Windows): acknowledged
    /// packets survive a power cut. One sync per acknowledgement, not per packet, but each costs a device round trip
    /// (milliseconds on an SD card), so it bounds the acknowledgement rate.
    /// </summary>
    PowerLoss = 1,
}
