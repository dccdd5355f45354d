using EdgeCodec.Codec;

namespace EdgeCodec.Streaming;

/// <summary>Settings of a <see cref="StreamReceiver"/>.</summary>
public sealed class StreamReceiverOptions
{
    /// <summary>Model pack identity the receiver can decode; senders with another model are refused. Required.</summary>
    public required ulong ModelId { get; init; }

    /// <summary>
    /// Folder of the offline store (one <c>frame-NNNNNNNNNN.ecx</c> per frame), created if missing and recovered if it
    /// holds a previous session; null keeps packets in memory only (acknowledgements then mean "received", not "durable").
    /// </summary>
    public string? StoreDirectory { get; init; }

    /// <summary>Adapter (expert) ids this device holds, announced in HELLO. Default none.</summary>
    public IReadOnlyList<ushort> AdapterIds { get; init; } = [];

    /// <summary>
    /// Installs an adapter package the sender pushed (complete, its SHA-256 matching the announced one): must verify the
    /// signature and base model before activating it, and throw (e.g. <c>AdapterVerificationException</c>) to refuse it.
    /// Typically <c>bytes =&gt; registry.Install(bytes)</c> of an <c>AdapterRegistry</c>. Null refuses every push.
    /// Installed ids are announced in later HELLOs.
    /// </summary>
    public Action<byte[]>? InstallAdapter { get; init; }

    /// <summary>Largest message accepted, checked before buffering its body. Default 16 MiB + 1 KiB.</summary>
    public int MaxMessageSize { get; init; } = (16 << 20) + 1024;

    /// <summary>Out-of-order packets (or packets before their HEADER) held in memory; more are dropped unacknowledged. Default 4096.</summary>
    public int MaxPendingPackets { get; init; } = 4096;

    /// <summary>
    /// Memory the receiver may hold for packets of frames not yet complete (applied, out-of-order and orphaned packets,
    /// payload plus a fixed per-packet cost), so that no sender can make it allocate without bound. Past it, a receiver
    /// with a store releases the oldest frames' applied packets from memory (they are in the store; progress snapshots of
    /// those frames are read back from their files), and one without a store evicts the oldest incomplete frames (see
    /// <see cref="MaxIncompleteFrames"/>). Out-of-order packets that do not fit are dropped unacknowledged (the sender
    /// resends them). Default 64 MiB.
    /// </summary>
    public long MaxBufferedBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Frames announced by HEADER but not complete that the receiver tracks at once; a new frame past it evicts the
    /// oldest one. An evicted frame keeps what it had (a valid prefix in the store: a coarser picture); its later
    /// packets are acknowledged and discarded (<see cref="StreamReceiverStatistics.PacketsDiscarded"/>). Default 4096.
    /// </summary>
    public int MaxIncompleteFrames { get; init; } = 4096;

    /// <summary>
    /// How long packets of a frame whose HEADER has not arrived (orphans) are held, counted from the first of them.
    /// Past it they are released unacknowledged (<see cref="StreamReceiverStatistics.OrphansExpired"/>), so a HEADER the
    /// sender will never send again cannot keep their memory out of <see cref="MaxBufferedBytes"/> for newer packets; a
    /// sender that still has the frame resends both. Default 30 s.
    /// </summary>
    public TimeSpan OrphanTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock of <see cref="OrphanTimeout"/>. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// What an acknowledged packet in <see cref="StoreDirectory"/> survives: a killed process (default), or also a power
    /// cut, at the cost of a disk sync per acknowledgement. Ignored without a store.
    /// </summary>
    public StoreDurability Durability { get; init; } = StoreDurability.ProcessCrash;

    /// <summary>
    /// Bytes the store's frame files may take (null, the default: no limit). Past it, once a frame completes and at
    /// start, the receiver frees space from the oldest completed frames that are below its acknowledgement watermark
    /// (every packet before them is held, so nothing there can be asked for again), in three passes that each stop
    /// once the store fits: rewrite them in the compact layout (lossless: ~40 bytes per packet and the index go), then
    /// trim them to their base layer (a whole, coarser picture), then delete them. Frames at or above the watermark and
    /// incomplete frames are never touched, so the store can stay above the quota while they wait. The watermark is
    /// persisted (<c>store-state.bin</c>) before the first file is changed, so a restarted receiver still announces it.
    /// Ignored without a store.
    /// </summary>
    public long? StoreQuotaBytes { get; init; }

    /// <summary>Tests only: opens the store's frame files for writing (a stream that fails stands for a full disk).</summary>
    internal Func<string, FileStream>? StoreFileOpener { get; init; }

    /// <summary>Store files kept open at once; older ones are closed and reopened with OpenForAppend when needed. Default 16.</summary>
    public int MaxOpenFiles { get; init; } = 16;

    /// <summary>Send a KEEPALIVE after this much silence. Default 1 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Give up on a connection after this much silence from the peer (also the HELLO timeout). Default 5 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Optional decoder for progressive display: when set, every <see cref="StreamReceiver.FrameProgress"/> step is also
    /// decoded on a background task and raised as <see cref="StreamReceiver.FrameDecoded"/> (older steps of a frame are
    /// skipped when the decoder falls behind). The receiver uses it exclusively and does not dispose it.
    /// </summary>
    public EdgeCodecDecoder? Decoder { get; init; }

    /// <summary>
    /// Display steps queued for <see cref="Decoder"/> at most (default 32). When the decoder falls further behind, the
    /// oldest queued step is dropped, as a player drops late frames (<see cref="StreamReceiverStatistics.DisplayStepsDropped"/>);
    /// nothing stored or acknowledged is affected, so the memory a slow display can hold stays bounded.
    /// </summary>
    public int MaxQueuedDisplaySteps { get; init; } = 32;

    /// <summary>
    /// Warm <see cref="Decoder"/> up for a picture size when the HEADER of the first frame of that size arrives
    /// (<see cref="EdgeCodecDecoder.WarmUp"/>, on the display task), so that the decoder's first-picture cost (up to
    /// 2–2.7× a later picture's, docs/benchmarks.md) is paid while the frame's packets are still on the way, not after
    /// its base layer has arrived. Worth it on slow or intermittent links with a fast backend (<c>cpu</c>: one synthesis;
    /// <c>onnx</c>: two); on a fast link, or with the slow <c>reference</c> backend, the warm-up can delay the first
    /// picture instead. Counted in <see cref="StreamReceiverStatistics.DecoderWarmUps"/>.
    /// Default false.
    /// </summary>
    public bool WarmUpDecoder { get; init; }
}
