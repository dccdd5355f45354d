using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;
using EdgeCodec.Format;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Streaming;

/// <summary>
/// Set-top-box side of a stream: receives packets over one connection at a time, drops duplicates, reorders into
/// prefix order per frame, persists each packet to the offline store before acknowledging it, and reports progressive
/// display steps (<see cref="FrameProgress"/>: base layer complete, then each refinement).
/// </summary>
/// <remarks>
/// Acknowledgements are durable: a packet is acknowledged only after it is appended to its frame's <c>.ecx</c> file
/// (or applied in memory when no store is configured), so a sender never forgets a packet the store lacks. A new
/// instance on the same store folder recovers what is there and resumes from it. Events are raised on the session's
/// read loop: keep handlers short. Protocol: docs/streaming.md.
/// </remarks>
public sealed class StreamReceiver : IDisposable
{
    private readonly StreamReceiverOptions _options;
    private readonly object _gate = new();
    private readonly SequenceSet _held = new();
    private readonly Dictionary<uint, ReceiverFrame> _frames = [];
    private readonly HashSet<uint> _completed = [];
    private readonly HashSet<uint> _evicted = [];
    private readonly Dictionary<uint, OrphanFrame> _orphans = [];
    private readonly TimeProvider _time;
    private readonly ReceiverStore? _store;
    private readonly Channel<DisplayWork>? _display;
    private (int Width, int Height, int Tile)? _warmedFor;
    private long _decoderWarmUps;
    private readonly Task? _displayTask;
    private uint? _streamId;
    private int _pendingCount;
    private long _bufferedBytes;
    private int _running;
    private bool _disposed;
    private long _received, _applied, _recovered, _duplicates, _dropped, _framesCompleted, _acks, _connections, _framesEvicted, _discarded;
    private const int MaxPartialAdapters = 4;
    private readonly Dictionary<(ushort Expert, string Sha), PartialAdapter> _partialAdapters = [];
    private readonly HashSet<ushort> _installedAdapters = [];
    private long _adaptersInstalled, _adaptersRejected;
    private long _displayDropped;
    private long _orphansExpired, _lastOrphanSweep;

    /// <summary>Completed frames in the store, oldest first, and what the quota may still do with them.</summary>
    private readonly SortedDictionary<uint, StoredFrame> _stored = [];
    /// <summary>The watermark in the store's state file, or null while there is none.</summary>
    private ulong? _persistedWatermark;
    private long _framesCompacted, _framesTrimmed, _framesDeleted;

    /// <summary>Creates a receiver and recovers its store, if any.</summary>
    /// <param name="options">Settings; <see cref="StreamReceiverOptions.ModelId"/> is required.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit in <paramref name="options"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">The store holds frames of another model or a file that is not a prefix.</exception>
    /// <exception cref="IOException">The store folder cannot be read.</exception>
    public StreamReceiver(StreamReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMessageSize, 256, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxPendingPackets, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxOpenFiles, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBufferedBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxIncompleteFrames, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxQueuedDisplaySteps, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IdleTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.KeepAliveInterval, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.OrphanTimeout, TimeSpan.Zero, nameof(options));
        ArgumentNullException.ThrowIfNull(options.TimeProvider, nameof(options));
        if (options.StoreQuotaBytes is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StoreQuotaBytes, "StoreQuotaBytes must be positive.");
        }

        _options = options;
        _time = options.TimeProvider;
        _lastOrphanSweep = _time.GetTimestamp();
        if (options.StoreDirectory is not null)
        {
            _store = new ReceiverStore(options.StoreDirectory, options.MaxOpenFiles, options.Durability, options.StoreFileOpener);
            Recover(_store);
        }

        if (options.Decoder is not null)
        {
            _display = Channel.CreateBounded<DisplayWork>(
                new BoundedChannelOptions(options.MaxQueuedDisplaySteps)
                {
                    FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true,
                },
                dropped =>
                {
                    if (dropped.Step is not null)
                    {
                        Interlocked.Increment(ref _displayDropped); // a dropped warm-up only leaves the decoder cold
                    }
                });
            _displayTask = Task.Run(DisplayLoopAsync);
        }
    }

    /// <summary>A frame's base layer became complete, or it gained a refinement layer. Raised once per (frame, layer), in layer order.</summary>
    public event EventHandler<FrameProgressEventArgs>? FrameProgress;

    /// <summary>A progressive decode finished (only with <see cref="StreamReceiverOptions.Decoder"/>); raised on the display task.</summary>
    public event EventHandler<FrameDecodedEventArgs>? FrameDecoded;

    /// <summary>Raised (on the connection's task) when a pushed adapter package has arrived whole and was installed or refused.</summary>
    public event EventHandler<AdapterReceivedEventArgs>? AdapterReceived;

    /// <summary>Every sequence below this is held (stored): the resume point announced in HELLO.</summary>
    public ulong ResumeSequence
    {
        get
        {
            lock (_gate)
            {
                return _held.Cumulative;
            }
        }
    }

    /// <summary>Frames whose every layer is held, in ascending order.</summary>
    public IReadOnlyList<uint> CompletedFrames
    {
        get
        {
            lock (_gate)
            {
                return [.. _completed.Order()];
            }
        }
    }

    /// <summary>A snapshot of the counters.</summary>
    public StreamReceiverStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new StreamReceiverStatistics
                {
                    PacketsReceived = _received, PacketsApplied = _applied, PacketsRecovered = _recovered,
                    Duplicates = _duplicates, Dropped = _dropped, FramesCompleted = _framesCompleted,
                    AcksSent = _acks, Connections = _connections, BufferedBytes = _bufferedBytes,
                    FramesEvicted = _framesEvicted, PacketsDiscarded = _discarded,
                    AdaptersInstalled = _adaptersInstalled, AdaptersRejected = _adaptersRejected,
                    DisplayStepsDropped = Interlocked.Read(ref _displayDropped), OrphansExpired = _orphansExpired,
                    DecoderWarmUps = Interlocked.Read(ref _decoderWarmUps),
                    StoreSyncs = _store?.Syncs ?? 0, StoreBytes = _store?.Bytes ?? 0,
                    FramesCompacted = _framesCompacted, FramesTrimmed = _framesTrimmed, FramesDeleted = _framesDeleted,
                };
            }
        }
    }

    /// <summary>Runs one session over <paramref name="stream"/> (e.g. an accepted socket's stream); the stream is left open.</summary>
    /// <param name="stream">A readable and writable stream.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>See <see cref="RunAsync(IDuplexPipe, CancellationToken)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="IOException">The connection or the store failed.</exception>
    /// <exception cref="StreamProtocolException">The sender broke the protocol or uses another model.</exception>
    /// <exception cref="TimeoutException">The sender was silent for <see cref="StreamReceiverOptions.IdleTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another session is running.</exception>
    /// <exception cref="ObjectDisposedException">The receiver was disposed.</exception>
    public Task<bool> RunAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return RunAsync(StreamPipes.Create(stream), cancellationToken);
    }

    /// <summary>
    /// Runs one session: waits for the sender's HELLO, answers with the resume point and an ACK, then receives,
    /// stores and acknowledges until the sender says BYE (returns true) or the connection ends (returns false when
    /// closed cleanly; throws otherwise). Both ends of <paramref name="transport"/> are completed on return.
    /// </summary>
    /// <param name="transport">The connection.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>True when the sender finished the stream.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="transport"/> is null.</exception>
    /// <exception cref="IOException">The connection or the store failed.</exception>
    /// <exception cref="StreamProtocolException">The sender broke the protocol or uses another model.</exception>
    /// <exception cref="TimeoutException">The sender was silent for <see cref="StreamReceiverOptions.IdleTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another session is running.</exception>
    /// <exception cref="ObjectDisposedException">The receiver was disposed.</exception>
    public async Task<bool> RunAsync(IDuplexPipe transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("A session is already running.");
        }

        try
        {
            return await Connection.RunSessionAsync(transport, _options.MaxMessageSize, c => RunSessionAsync(c, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Closes the store files (partial frames stay resumable) and stops the display task.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _display?.Writer.TryComplete();
        _displayTask?.GetAwaiter().GetResult();
        lock (_gate)
        {
            _store?.Dispose();
        }
    }

    private async Task<bool> RunSessionAsync(Connection connection, CancellationToken cancellationToken)
    {
        var pending = new List<Message>();
        var hello = await connection.ReadHelloAsync(pending, _options.IdleTimeout, cancellationToken).ConfigureAwait(false);
        string? problem = hello.ProtocolVersion != StreamProtocol.Version ? $"protocol version {hello.ProtocolVersion} is not {StreamProtocol.Version}"
            : hello.Role != HelloMessage.SenderRole ? "the peer is not a sender"
            : hello.ModelId != _options.ModelId ? $"the stream uses model {hello.ModelId:x16}, this receiver has {_options.ModelId:x16}"
            : _streamId is uint id && id != hello.StreamId ? $"this receiver holds stream {id}, not {hello.StreamId}"
            : null;
        if (problem is not null)
        {
            byte reason = hello.ModelId != _options.ModelId ? ByeMessage.ModelMismatch : ByeMessage.ProtocolMismatch;
            await connection.SendAsync(new ByeMessage { Reason = reason, Text = problem }, cancellationToken).ConfigureAwait(false);
            throw new StreamProtocolException("Refused the sender: " + problem + ".");
        }

        AckMessage ack;
        lock (_gate)
        {
            _streamId = hello.StreamId;
            _connections++;
            // The sender holds nothing below its lowest unacknowledged sequence: it was stored here or abandoned.
            _held.AdvanceTo(hello.Sequence);
            ack = BuildAckLocked([]);
        }

        var caps = Capabilities.SelectiveAck | Capabilities.Backfill | Capabilities.CompactLatent | (_store is null ? Capabilities.None : Capabilities.DurableAck);
        var reply = new HelloMessage
        {
            Role = HelloMessage.ReceiverRole, StreamId = hello.StreamId, ModelId = _options.ModelId,
            Capabilities = caps, AdapterIds = AnnouncedAdapters(), Sequence = ack.Cumulative,
        };
        var greeting = new List<Outgoing> { new(reply, null), new(ack, null) };
        lock (_gate)
        {
            // Transfers cut by an earlier connection: tell the sender where to resume.
            greeting.AddRange(_partialAdapters.Select(p =>
                Status(p.Key.Expert, Convert.FromHexString(p.Key.Sha), p.Value.Have, AdapterStatusMessage.Receiving)));
        }

        await connection.SendAsync(greeting, cancellationToken).ConfigureAwait(false);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var keepAlive = KeepAliveLoopAsync(connection, cts.Token);
        try
        {
            return await ReadLoopAsync(connection, pending, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await keepAlive.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            catch (IOException)
            {
                // The read loop reports the connection's fate.
            }
        }
    }

    private async Task KeepAliveLoopAsync(Connection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            var due = _options.KeepAliveInterval - TimeSpan.FromMilliseconds(connection.MillisecondsSinceLastSend);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await connection.SendAsync(KeepAliveMessage.Instance, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> ReadLoopAsync(Connection connection, List<Message> pending, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = new List<FrameProgressEventArgs>();
        var touched = new List<ulong>();
        var adapterReplies = new List<Outgoing>();
        var completedAdapters = new List<(AdapterChunkMessage Last, byte[] Package)>();
        while (true)
        {
            bool needAck = false;
            bool finished = false;
            lock (_gate)
            {
                foreach (var message in pending)
                {
                    switch (message)
                    {
                        case LatentMessage latent:
                            _received++;
                            OnLatentLocked(latent.Packet, progress, touched);
                            needAck = true;
                            break;
                        case HeaderMessage header:
                            OnHeaderLocked(header, progress, touched);
                            break;
                        case CompactLatentMessage compact:
                            _received++;
                            OnLatentLocked(
                                compact.ToPacket(_streamId!.Value, _options.ModelId)
                                    ?? throw new StreamProtocolException($"LATENT_COMPACT sequence {compact.Sequence}: packet CRC32 mismatch (damaged)."),
                                progress,
                                touched);
                            needAck = true;
                            break;
                        case AdapterChunkMessage chunk:
                            OnAdapterChunkLocked(chunk, adapterReplies, completedAdapters);
                            break;
                        case KeepAliveMessage:
                            break;
                        case ByeMessage bye when bye.Reason == ByeMessage.Finished:
                            finished = true;
                            break;
                        case ByeMessage bye:
                            throw new StreamProtocolException($"The sender ended the session: {bye.Text}");
                        default:
                            throw new StreamProtocolException($"A sender must not send {message.Type}.");
                    }
                }
            }

            pending.Clear();
            foreach (var (last, package) in completedAdapters)
            {
                adapterReplies.Add(InstallPushedAdapter(last, package));
            }

            completedAdapters.Clear();
            if (adapterReplies.Count > 0 && !finished)
            {
                if (!await TrySendAsync(connection, adapterReplies, cancellationToken).ConfigureAwait(false))
                {
                    return true; // the sender had already finished (its BYE was waiting behind)
                }

                adapterReplies.Clear();
            }

            foreach (var step in progress)
            {
                FrameProgress?.Invoke(this, step);
                _display?.Writer.TryWrite(new DisplayWork(step, null));
            }

            progress.Clear();
            if (needAck && !finished) // after BYE the sender holds nothing unacknowledged: a late ACK would find it gone
            {
                AckMessage ack;
                lock (_gate)
                {
                    ack = BuildAckLocked(touched);
                    _acks++;
                }

                touched.Clear();
                if (!await TrySendAsync(connection, [new Outgoing(ack, null)], cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }
            }

            if (finished)
            {
                return true;
            }

            idle.CancelAfter(_options.IdleTimeout);
            try
            {
                if (!await connection.ReadBatchAsync(pending, idle.Token).ConfigureAwait(false))
                {
                    return false;
                }
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The sender was silent for {_options.IdleTimeout.TotalSeconds:0.###} s.");
            }
        }
    }

    /// <summary>
    /// Sends; if the sender has already closed its side, looks for its BYE among the bytes it left: a sender that got
    /// every acknowledgement it needed may finish while a late ACK (e.g. for a spurious retransmission) is on its way.
    /// </summary>
    /// <returns>True when sent; false when the sender had finished cleanly (BYE received).</returns>
    /// <exception cref="IOException">The connection failed and no BYE was waiting.</exception>
    private static async Task<bool> TrySendAsync(Connection connection, IReadOnlyList<Outgoing> batch, CancellationToken cancellationToken)
    {
        try
        {
            await connection.SendAsync(batch, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            // The sender closed its side after BYE, so reading ends (end of stream) soon; 1 s bounds a broken peer.
            var rest = new List<Message>();
            using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            drain.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                while (await connection.ReadBatchAsync(rest, drain.Token).ConfigureAwait(false))
                {
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or StreamProtocolException)
            {
            }

            if (rest.Any(m => m is ByeMessage { Reason: ByeMessage.Finished }))
            {
                return false;
            }

            throw;
        }
    }

    private IReadOnlyList<ushort> AnnouncedAdapters()
    {
        lock (_gate)
        {
            return [.. _options.AdapterIds.Union(_installedAdapters).Take(StreamProtocol.MaxAdapterIds)];
        }
    }

    private void OnAdapterChunkLocked(AdapterChunkMessage chunk, List<Outgoing> replies, List<(AdapterChunkMessage, byte[])> completed)
    {
        var key = (chunk.ExpertId, Convert.ToHexString(chunk.Sha256));
        if (!_partialAdapters.TryGetValue(key, out var partial) || partial.Buffer.Length != chunk.Total)
        {
            // Bounded: a few transfers at a time; the oldest incomplete one is forgotten (its sender resends).
            while (_partialAdapters.Count >= MaxPartialAdapters)
            {
                _partialAdapters.Remove(_partialAdapters.MinBy(p => p.Value.Started).Key);
            }

            partial = new PartialAdapter(new byte[chunk.Total], Stopwatch.GetTimestamp());
            _partialAdapters[key] = partial;
        }

        if (chunk.Offset != partial.Have)
        {
            // Bytes already held (a resend after a reconnect): "continue from Have". A gap (this receiver lost the
            // start, e.g. it restarted): "resend from Have".
            byte state = chunk.Offset < partial.Have ? AdapterStatusMessage.Receiving : AdapterStatusMessage.Resend;
            replies.Add(Status(chunk.ExpertId, chunk.Sha256, partial.Have, state));
            return;
        }

        chunk.Data.Span.CopyTo(partial.Buffer.AsSpan(partial.Have));
        partial.Have += chunk.Data.Length;
        if (partial.Have == partial.Buffer.Length)
        {
            _partialAdapters.Remove(key);
            completed.Add((chunk, partial.Buffer));
        }
        else
        {
            replies.Add(Status(chunk.ExpertId, chunk.Sha256, partial.Have, AdapterStatusMessage.Receiving));
        }
    }

    private Outgoing InstallPushedAdapter(AdapterChunkMessage last, byte[] package)
    {
        string? problem = null;
        if (!System.Security.Cryptography.SHA256.HashData(package).AsSpan().SequenceEqual(last.Sha256))
        {
            problem = "the package does not match its announced SHA-256";
        }
        else if (_options.InstallAdapter is null)
        {
            problem = "this receiver takes no adapters";
        }
        else
        {
            try
            {
                _options.InstallAdapter(package);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
            {
                problem = e.Message;
            }
        }

        lock (_gate)
        {
            if (problem is null)
            {
                _installedAdapters.Add(last.ExpertId);
                _adaptersInstalled++;
            }
            else
            {
                _adaptersRejected++;
            }
        }

        AdapterReceived?.Invoke(this, new AdapterReceivedEventArgs(last.ExpertId, package.Length, problem));
        return Status(last.ExpertId, last.Sha256, package.Length, problem is null ? AdapterStatusMessage.Installed : AdapterStatusMessage.Rejected);
    }

    private static Outgoing Status(ushort expert, byte[] sha256, int have, byte state) =>
        new(new AdapterStatusMessage { ExpertId = expert, Sha256 = sha256, Have = (uint)have, State = state }, null);

    private void OnHeaderLocked(HeaderMessage message, List<FrameProgressEventArgs> progress, List<ulong> touched)
    {
        if (message.StreamId != _streamId || message.Header.ModelId != _options.ModelId)
        {
            throw new StreamProtocolException($"HEADER for stream {message.StreamId} / model {message.Header.ModelId:x16} does not belong to this session.");
        }

        if (_completed.Contains(message.FrameIndex) || _evicted.Contains(message.FrameIndex))
        {
            return;
        }

        if (_frames.TryGetValue(message.FrameIndex, out var known))
        {
            if (!ReceiverFrame.SameGeometry(known.Header, message.Header))
            {
                throw new StreamProtocolException($"HEADER of frame {message.FrameIndex} changed within the stream.");
            }

            return;
        }

        if (_frames.Count >= _options.MaxIncompleteFrames)
        {
            EvictLocked(Oldest(_ => true)!);
        }

        _frames[message.FrameIndex] = new ReceiverFrame(message.FrameIndex, message.Header);
        var size = (message.Header.Width, message.Header.Height, message.Header.TileWidth);
        if (_display is not null && _options.WarmUpDecoder && _warmedFor != size)
        {
            _warmedFor = size;
            // Queued now, ahead of the frame's first step (steps are queued after the lock); only this loop writes.
            _display.Writer.TryWrite(new DisplayWork(null, message.Header));
        }

        if (_orphans.Remove(message.FrameIndex, out var waiting))
        {
            UnbufferLocked(waiting);
            foreach (var p in waiting.Packets)
            {
                OnLatentLocked(p, progress, touched);
            }
        }
    }

    /// <summary>
    /// Releases the packets of frames whose HEADER has not come within <see cref="StreamReceiverOptions.OrphanTimeout"/>
    /// of their first packet: unacknowledged, so a sender that still has the frame resends them (with its HEADER).
    /// Runs when a new orphan is about to be held, at most every eighth of the timeout.
    /// </summary>
    private void ExpireOrphansLocked()
    {
        long now = _time.GetTimestamp();
        if (_orphans.Count == 0 || _time.GetElapsedTime(_lastOrphanSweep, now) < _options.OrphanTimeout / 8)
        {
            return;
        }

        _lastOrphanSweep = now;
        foreach (var (frameIndex, orphan) in _orphans)
        {
            if (_time.GetElapsedTime(orphan.Since, now) >= _options.OrphanTimeout)
            {
                _orphans.Remove(frameIndex); // allowed while enumerating a Dictionary since .NET Core 3.0
                UnbufferLocked(orphan);
                _orphansExpired += orphan.Packets.Count;
            }
        }
    }

    /// <summary>Takes an orphan frame's packets out of the pending and memory accounting (adopted or expired).</summary>
    private void UnbufferLocked(OrphanFrame orphan)
    {
        _pendingCount -= orphan.Packets.Count;
        _bufferedBytes -= orphan.Packets.Sum(ReceiverFrame.Cost);
    }

    /// <summary>Packets held for a frame whose HEADER has not arrived, and when the first of them came (a <see cref="TimeProvider"/> timestamp).</summary>
    private sealed record OrphanFrame(long Since)
    {
        public List<LatentPacket> Packets { get; } = [];
    }

    private void OnLatentLocked(LatentPacket p, List<FrameProgressEventArgs> progress, List<ulong> touched)
    {
        if (p.StreamId != _streamId || p.ModelId != _options.ModelId)
        {
            throw new StreamProtocolException($"Packet {p.Sequence} names stream {p.StreamId} / model {p.ModelId:x16}, not this session's.");
        }

        if (_held.Contains(p.Sequence) || _completed.Contains(p.FrameIndex))
        {
            _duplicates++;
            touched.Add(p.Sequence); // the sender may have missed the ACK
            return;
        }

        if (_evicted.Contains(p.FrameIndex))
        {
            // The frame was given up under the limits: acknowledge so that the sender stops resending it.
            _discarded++;
            _held.Add(p.Sequence);
            touched.Add(p.Sequence);
            return;
        }

        long cost = ReceiverFrame.Cost(p);
        if (!_frames.TryGetValue(p.FrameIndex, out var frame))
        {
            ExpireOrphansLocked();
            if (_pendingCount >= _options.MaxPendingPackets || _bufferedBytes + cost > _options.MaxBufferedBytes)
            {
                _dropped++;
                return;
            }

            if (!_orphans.TryGetValue(p.FrameIndex, out var orphan))
            {
                _orphans[p.FrameIndex] = orphan = new OrphanFrame(_time.GetTimestamp());
            }

            var list = orphan.Packets;

            if (list.Exists(q => q.Sequence == p.Sequence))
            {
                _duplicates++;
                return;
            }

            list.Add(p);
            _pendingCount++;
            _bufferedBytes += cost;
            return;
        }

        var header = frame.Header;
        if (p.TileIndex >= header.TileCount || p.Layer >= header.LayerCount)
        {
            throw new StreamProtocolException($"Packet {p.Sequence}: tile {p.TileIndex} / layer {p.Layer} outside frame {p.FrameIndex}'s {header.TileCount} tiles x {header.LayerCount} layers.");
        }

        int position = ReceiverFrame.Position(p, header);
        if (position < frame.AppliedCount || frame.Waiting.ContainsKey(position))
        {
            _duplicates++;
            return;
        }

        if (position != frame.AppliedCount)
        {
            if (_pendingCount >= _options.MaxPendingPackets || _bufferedBytes + cost > _options.MaxBufferedBytes)
            {
                _dropped++;
                return;
            }

            frame.Waiting[position] = p;
            _pendingCount++;
            _bufferedBytes += cost;
            return;
        }

        ApplyLocked(frame, p, touched);
        while (frame.Waiting.Remove(frame.AppliedCount, out var next))
        {
            _bufferedBytes -= ReceiverFrame.Cost(next);
            _pendingCount--;
            ApplyLocked(frame, next, touched);
        }

        int layers = frame.AppliedCount / header.TileCount;
        if (layers > frame.ReportedLayers)
        {
            // Released packets are on disk (only a receiver with a store releases them).
            IReadOnlyList<LatentPacket> snapshot = frame.Applied?.ToArray() ?? _store!.Read(frame.Index, frame.AppliedCount);
            for (int layer = frame.ReportedLayers + 1; layer <= layers; layer++)
            {
                var kind = layer == 1 ? FrameProgressKind.BaseLayerComplete : FrameProgressKind.Refined;
                progress.Add(new FrameProgressEventArgs(frame.Index, kind, layer, header, snapshot));
            }

            frame.ReportedLayers = layers;
        }

        if (frame.AppliedCount == frame.Total)
        {
            _store?.Complete(frame.Index, header);
            _bufferedBytes -= frame.Release();
            _frames.Remove(frame.Index);
            _completed.Add(frame.Index);
            _framesCompleted++;
            if (_store is not null)
            {
                _stored[frame.Index] = new StoredFrame(frame.MaxSequence, header.LayerCount, Compact: false);
                EnforceQuotaLocked();
            }
        }

        EnforceBudgetLocked();
    }

    /// <summary>
    /// Brings the store under <see cref="StreamReceiverOptions.StoreQuotaBytes"/> with the oldest completed frames below
    /// the acknowledgement watermark: compact them, then trim them to the base layer, then delete them.
    /// </summary>
    /// <exception cref="IOException">The store failed; what was done so far is consistent (each file is replaced whole).</exception>
    private void EnforceQuotaLocked()
    {
        if (_options.StoreQuotaBytes is not long quota || _store!.Bytes <= quota)
        {
            return;
        }

        ulong watermark = _held.Cumulative;
        var settled = _stored.Where(f => f.Value.Compact || f.Value.MaxSequence < watermark).Select(f => f.Key).ToList();
        if (settled.Count == 0)
        {
            return;
        }

        // The files about to change stop carrying their sequence numbers: the watermark that covers them goes first.
        if (_persistedWatermark is not ulong persisted || persisted < watermark)
        {
            new StoreState(_streamId ?? 0, watermark).Write(_store.Directory, _options.Durability == StoreDurability.PowerLoss);
            _persistedWatermark = watermark;
        }

        // Three passes, oldest frames first in each, until the store fits: compact (lossless), trim, delete.
        foreach (Action<uint> pass in (Action<uint>[])[Compact, Trim, Delete])
        {
            foreach (uint index in settled)
            {
                if (_store.Bytes <= quota)
                {
                    return;
                }

                pass(index);
            }
        }

        void Compact(uint index)
        {
            if (!_stored[index].Compact)
            {
                _store.Rewrite(index, int.MaxValue);
                _stored[index] = _stored[index] with { Compact = true };
                _framesCompacted++;
            }
        }

        void Trim(uint index)
        {
            if (_stored[index].Layers > 1)
            {
                _store.Rewrite(index, 1);
                _stored[index] = _stored[index] with { Layers = 1 };
                _framesTrimmed++;
            }
        }

        void Delete(uint index)
        {
            _store.Delete(index);
            _stored.Remove(index);
            _completed.Remove(index);
            _framesDeleted++;
        }
    }

    /// <summary>A completed frame in the store: its highest sequence (covered by the watermark once below it), its layers, its layout.</summary>
    private readonly record struct StoredFrame(ulong MaxSequence, int Layers, bool Compact);

    /// <summary>
    /// Keeps the in-memory packets within <see cref="StreamReceiverOptions.MaxBufferedBytes"/>: with a store the oldest
    /// frames' applied packets are released (they are on disk), without one the oldest incomplete frames are evicted.
    /// </summary>
    private void EnforceBudgetLocked()
    {
        while (_bufferedBytes > _options.MaxBufferedBytes && Oldest(f => f.AppliedBytes > 0) is { } victim)
        {
            if (_store is not null)
            {
                _bufferedBytes -= victim.Release();
            }
            else
            {
                EvictLocked(victim);
            }
        }
    }

    /// <summary>Gives up on an incomplete frame: what it had stays stored (a valid prefix); later packets are discarded.</summary>
    private void EvictLocked(ReceiverFrame frame)
    {
        _bufferedBytes -= frame.Release() + frame.Waiting.Values.Sum(ReceiverFrame.Cost);
        _pendingCount -= frame.Waiting.Count;
        _frames.Remove(frame.Index);
        _evicted.Add(frame.Index);
        _framesEvicted++;
    }

    private ReceiverFrame? Oldest(Func<ReceiverFrame, bool> predicate)
    {
        ReceiverFrame? oldest = null;
        foreach (var f in _frames.Values)
        {
            if (predicate(f) && (oldest is null || f.Index < oldest.Index))
            {
                oldest = f;
            }
        }

        return oldest;
    }

    private void ApplyLocked(ReceiverFrame frame, LatentPacket p, List<ulong> touched)
    {
        // Durable before acknowledged: the append flushes before the sequence joins the ACK state.
        _store?.Append(frame.Index, frame.Header, p);
        _bufferedBytes += frame.Apply(p);
        _held.Add(p.Sequence);
        touched.Add(p.Sequence);
        _applied++;
    }

    private AckMessage BuildAckLocked(List<ulong> touched)
    {
        // Durable before acknowledged: every ACK (HELLO's included) follows the store's sync (a no-op unless
        // StoreDurability.PowerLoss and something was written since the last one).
        _store?.Sync();
        var all = _held.Ranges;
        if (all.Count <= StreamProtocol.MaxAckRanges)
        {
            return new AckMessage { Cumulative = _held.Cumulative, Ranges = [.. all] };
        }

        // Too many holes (frames with deferred layers): like TCP SACK, report the ranges holding what just arrived
        // first, then the lowest ones.
        var chosen = new SortedSet<(ulong Start, ulong End)>();
        foreach (ulong s in touched)
        {
            int i = FindRange(all, s);
            if (i >= 0 && chosen.Count < StreamProtocol.MaxAckRanges)
            {
                chosen.Add(all[i]);
            }
        }

        for (int i = 0; i < all.Count && chosen.Count < StreamProtocol.MaxAckRanges; i++)
        {
            chosen.Add(all[i]);
        }

        return new AckMessage { Cumulative = _held.Cumulative, Ranges = [.. chosen] };
    }

    private static int FindRange(IReadOnlyList<(ulong Start, ulong End)> ranges, ulong s)
    {
        int lo = 0, hi = ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (s < ranges[mid].Start)
            {
                hi = mid - 1;
            }
            else if (s >= ranges[mid].End)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    private void Recover(ReceiverStore store)
    {
        if (StoreState.Read(store.Directory) is { } state)
        {
            // Frames rewritten or deleted for the quota: every sequence below the watermark is settled.
            _streamId = state.StreamId;
            _held.AdvanceTo(state.Watermark);
            _persistedWatermark = state.Watermark;
        }

        foreach (var (header, packets, completed, layout) in store.Recover())
        {
            if (header.ModelId != _options.ModelId)
            {
                throw new InvalidDataException($"The store holds model {header.ModelId:x16}, the receiver {_options.ModelId:x16}.");
            }

            if (packets.Count == 0)
            {
                continue;
            }

            uint index = packets[0].FrameIndex;
            if (layout == ContainerLayout.Compact)
            {
                // Written by the quota, whole, for a completed frame under the watermark; its packets keep no sequences.
                _completed.Add(index);
                _stored[index] = new StoredFrame(0, header.LayerCount, Compact: true);
                _recovered += packets.Count;
                continue;
            }

            var frame = new ReceiverFrame(index, header);
            foreach (var p in packets)
            {
                if (p.FrameIndex != index || ReceiverFrame.Position(p, header) != frame.AppliedCount)
                {
                    throw new InvalidDataException($"Store file of frame {index} is not a contiguous prefix.");
                }

                frame.Apply(p);
                _held.Add(p.Sequence);
                _streamId ??= p.StreamId;
                _recovered++;
            }

            frame.ReportedLayers = frame.AppliedCount / header.TileCount;
            if (frame.AppliedCount == frame.Total)
            {
                if (!completed)
                {
                    store.Complete(index, header);
                }

                _completed.Add(index);
                _stored[index] = new StoredFrame(packets.Max(p => p.Sequence), header.LayerCount, Compact: false);
            }
            else
            {
                _frames[index] = frame;
                _bufferedBytes += frame.AppliedBytes;
                EnforceBudgetLocked();
            }
        }

        EnforceQuotaLocked();
    }

    private async Task DisplayLoopAsync()
    {
        var reader = _display!.Reader;
        var decoder = _options.Decoder!;
        var batch = new List<FrameProgressEventArgs>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var work))
            {
                if (work.WarmUp is { } size)
                {
                    WarmUp(decoder, size);
                }
                else
                {
                    batch.Add(work.Step!);
                }
            }

            for (int i = 0; i < batch.Count; i++)
            {
                var step = batch[i];
                if (batch.FindIndex(i + 1, s => s.FrameIndex == step.FrameIndex) >= 0)
                {
                    continue; // a newer step of this frame is queued: decode that one instead
                }

                decoder.SetHeader(step.Header);
                foreach (var p in step.Packets)
                {
                    decoder.SendPacket(p);
                }

                var frame = decoder.DecodeFrame(step.FrameIndex);
                FrameDecoded?.Invoke(this, new FrameDecodedEventArgs(step, frame));
            }

            batch.Clear();
        }
    }

    /// <summary>Warms the display decoder for <paramref name="header"/>'s picture size; a size the decoder refuses is left to the frame's decode to report.</summary>
    private void WarmUp(Codec.EdgeCodecDecoder decoder, ContainerHeader header)
    {
        try
        {
            decoder.WarmUp(header.Width, header.Height, header.TileWidth);
            Interlocked.Increment(ref _decoderWarmUps);
        }
        catch (ArgumentOutOfRangeException)
        {
        }
    }

    /// <summary>One item of the display queue: a progress step to decode, or a picture size to warm the decoder for.</summary>
    private readonly record struct DisplayWork(FrameProgressEventArgs? Step, ContainerHeader? WarmUp);
}
