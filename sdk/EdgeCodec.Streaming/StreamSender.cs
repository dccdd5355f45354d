using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Streaming;

/// <summary>
/// Camera side of a stream: queues encoded frames, sends them over one connection at a time, keeps every
/// unacknowledged packet for retransmission (after a timeout, or from the receiver's resume point on reconnect), and
/// adapts to the link: an <see cref="IRateController"/> picks how many layers of each frame go out now and when the
/// deferred refinement layers are back-filled.
/// </summary>
/// <remarks>
/// Packets go out in prefix order per frame (layer 0 of every tile first). Sequences must be dense across frames:
/// give the encoder <see cref="NextSequence"/> as its first sequence. Thread-safe; one <see cref="RunAsync(IDuplexPipe, CancellationToken)"/>
/// at a time. Protocol: docs/streaming.md.
/// </remarks>
public sealed class StreamSender
{
    private const int MaxBatchBytes = 64 << 10;
    private const int AdapterWindowChunks = 4;
    private const int MaxRtoBackoff = 6;
    private static readonly TimeSpan MaxRetransmitTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InitialRetransmitTimeout = TimeSpan.FromSeconds(1); // RFC 6298, before any sample
    private readonly StreamSenderOptions _options;
    private readonly IRateController _rate;
    private readonly object _gate = new();
    private readonly List<SenderFrame> _frames = [];
    private readonly Dictionary<ulong, SenderPacket> _bySequence = [];
    private readonly Queue<SenderPacket> _inFlight = new(); // in send order; kept only with LossyTransport
    private readonly Queue<SenderPacket> _retransmit = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _space = new(0);
    private readonly SemaphoreSlim _enqueueLock = new(1, 1);
    private ulong _nextSequence;
    private bool _sequenceStarted;
    private ulong _ackedBelow;
    private long _bufferedBytes;
    private long _inFlightBytes;
    private long _delivered;
    private long _deliveredTime = Stopwatch.GetTimestamp();

    // Delivery-rate sampling follows draft-cheng-iccrg-delivery-rate-estimation: a send into an empty pipe restarts the
    // sampling interval (so idle time is not counted as link time), and packets sent while the sender ran out of data
    // mark their samples app-limited until everything in flight at that moment is delivered (_appLimitedUntil, 0 = not).
    private long _appLimitedUntil;
    private double _smoothedRtt, _rttVariation, _minRtt;
    // Loss detection within a connection, only with StreamSenderOptions.LossyTransport (TCP loses nothing while it lives),
    // as TCP's own RACK and RTO (RFC 8985; RFC 6298 5.3): a packet is lost when one sent after it was
    // acknowledged and it has been out for longer than that one's round trip plus a reordering window (this finds a
    // loss in one frame by the next frame's ACKs; within a frame the receiver acknowledges in order only), or, when
    // nothing has been acknowledged for a retransmission timeout, everything in flight is. The timer restarts with each
    // ACK: counted from each packet's send instead, it fired on every packet behind a standing queue, whose
    // retransmissions are never sampled, so a slow link was never measured (seen at 48 kbit/s in device-tests).
    private long _rackOrder;   // send order of the latest-sent packet acknowledged on this connection (0 = none)
    private long _rackRtt;     // its round trip, in timestamp ticks
    private long _sendOrder;
    private long _rtoArmedAt;  // last ACK or timeout on this connection
    private int _rtoBackoff;   // timeouts since the last ACK: each doubles the timeout, so a dead link is not flooded
    private int _connection;
    private int _running;
    private bool _completed;
    private IReadOnlyList<ushort> _peerAdapters = [];
    private bool _peerCompact;
    private readonly AdapterPush[] _pushes;
    private long _adaptersInstalled, _adaptersRejected, _adapterBytes;
    private long _sent, _retransmitted, _acked, _bytesSent, _payloadSent, _deferred, _backfilled, _connections;

    /// <summary>Creates a sender.</summary>
    /// <param name="options">Settings; <see cref="StreamSenderOptions.ModelId"/> is required.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size or time in <paramref name="options"/> is not positive.</exception>
    public StreamSender(StreamSenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.RetransmitBufferBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMessageSize, 256, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IdleTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.KeepAliveInterval, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MinRetransmitTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.AdapterChunkSize, 1 << 10, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.AdapterChunkSize, StreamProtocol.MaxAdapterChunk, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Adapters, nameof(options));
        _options = options;
        _rate = options.RateController ?? new DefaultRateController();
        _pushes = [.. options.Adapters.Select(a => new AdapterPush(a.Manifest.ExpertId, a.Manifest.Id, a.ToBytes()))];
        if (_pushes.Select(p => p.ExpertId).Distinct().Count() != _pushes.Length)
        {
            throw new ArgumentException("Two adapters to push share an expert id.", nameof(options));
        }
    }

    /// <summary>Complete() was called, every packet is acknowledged and every adapter push is settled (caller holds the lock).</summary>
    private bool FinishedLocked => _completed && _frames.Count == 0 && _pushes.All(p => p.Settled);

    /// <summary>The sequence the next enqueued frame must start at (0 until the first frame fixes it).</summary>
    public ulong NextSequence
    {
        get
        {
            lock (_gate)
            {
                return _nextSequence;
            }
        }
    }

    /// <summary>Adapter ids the receiver announced in its last HELLO (empty before the first session).</summary>
    public IReadOnlyList<ushort> PeerAdapterIds
    {
        get
        {
            lock (_gate)
            {
                return _peerAdapters;
            }
        }
    }

    /// <summary>A snapshot of the counters.</summary>
    public StreamSenderStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new StreamSenderStatistics
                {
                    PacketsSent = _sent, PacketsRetransmitted = _retransmitted, PacketsAcknowledged = _acked,
                    BytesSent = _bytesSent, PayloadBytesSent = _payloadSent, FramesDeferred = _deferred,
                    LayersBackfilled = _backfilled, Connections = _connections, BufferedBytes = _bufferedBytes,
                    AdaptersInstalled = _adaptersInstalled, AdaptersRejected = _adaptersRejected, AdapterBytesSent = _adapterBytes,
                };
            }
        }
    }

    /// <summary>
    /// What the link can take now: the rate controller's throughput estimate and the bytes still to go before a new
    /// frame's base layer (in flight, plus released or undecided base layers not yet acknowledged). The input of
    /// <see cref="QualityAdaptation.Choose"/>.
    /// </summary>
    public LinkEstimate Link
    {
        get
        {
            lock (_gate)
            {
                long backlog = 0;
                foreach (var frame in _frames)
                {
                    int released = frame.Decided ? frame.Released : frame.Header.TileCount;
                    for (int i = 0; i < released; i++)
                    {
                        if (!frame.Packets[i].Acked)
                        {
                            backlog += frame.Packets[i].WireSize;
                        }
                    }
                }

                return new LinkEstimate(_rate.EstimatedThroughput, backlog, _inFlightBytes);
            }
        }
    }

    /// <summary>True when <see cref="Complete"/> was called, every packet is acknowledged and every adapter push is settled (installed or rejected).</summary>
    public bool IsFinished
    {
        get
        {
            lock (_gate)
            {
                return FinishedLocked;
            }
        }
    }

    /// <summary>
    /// A frame's size on the link: the bytes <see cref="EnqueueAsync(EncodedImage, CancellationToken)"/> would
    /// return for it (its LATENT messages). Give it to <see cref="EdgeCodecEncoder.EncodeWithin(RgbImage, long, Func{EncodedImage, long}, uint, uint, ulong)"/>
    /// to fit a frame to <see cref="QualityAdaptation.FrameBudget"/>.
    /// </summary>
    /// <param name="frame">An encoded frame (or a layer prefix of one), with the stream id and sequences it will be sent with.</param>
    /// <returns>Bytes on the link, before retransmissions. Receivers that accept the compact form are sent fewer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    public static long LinkBytes(EncodedImage frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        long total = 0;
        foreach (var packet in frame.Packets)
        {
            total += SenderPacket.WireSizeOf(MessageCodec.SerializePacketBody(packet).Length);
        }

        return total;
    }

    /// <summary>Queues an encoded frame; waits while the retransmit buffer is full.</summary>
    /// <param name="frame">The encoder's output; its packets must start at <see cref="NextSequence"/>.</param>
    /// <param name="cancellationToken">Cancels the wait for buffer space.</param>
    /// <returns>The frame's size on the link in bytes (LATENT messages; give it to <see cref="QualityAdaptation.Observe"/>), once it is queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    /// <exception cref="ArgumentException">See <see cref="EnqueueAsync(ContainerHeader, IReadOnlyList{LatentPacket}, CancellationToken)"/>.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<long> EnqueueAsync(EncodedImage frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return EnqueueAsync(frame.Header, frame.Packets, cancellationToken);
    }

    /// <summary>Queues one frame given as a header and its packets; waits while the retransmit buffer is full.</summary>
    /// <param name="header">The frame geometry (frame count is ignored).</param>
    /// <param name="packets">Every packet of the frame (tiles x layers), in prefix order, with dense sequences from <see cref="NextSequence"/>.</param>
    /// <param name="cancellationToken">Cancels the wait for buffer space.</param>
    /// <returns>The frame's size on the link in bytes, once it is queued.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The packets are not one whole frame in prefix order, the sequences do not continue
    /// <see cref="NextSequence"/>, or the stream or model id differs from the options.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<long> EnqueueAsync(ContainerHeader header, IReadOnlyList<LatentPacket> packets, CancellationToken cancellationToken = default)
    {
        var frame = Prepare(header, packets);
        await _enqueueLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_completed)
                    {
                        throw new InvalidOperationException("The sender was completed.");
                    }

                    ulong first = frame.Packets[0].Packet.Sequence;
                    if (_sequenceStarted && first != _nextSequence)
                    {
                        throw new ArgumentException($"The frame starts at sequence {first}; the stream continues at {_nextSequence}.", nameof(packets));
                    }

                    if (_bufferedBytes == 0 || _bufferedBytes + frame.TotalBytes <= _options.RetransmitBufferBytes)
                    {
                        if (!_sequenceStarted)
                        {
                            _sequenceStarted = true;
                            _ackedBelow = first;
                        }

                        _nextSequence = first + (ulong)frame.Packets.Length;
                        _frames.Add(frame);
                        foreach (var p in frame.Packets)
                        {
                            _bySequence.Add(p.Packet.Sequence, p);
                        }

                        _bufferedBytes += frame.TotalBytes;
                        break;
                    }
                }

                await _space.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _enqueueLock.Release();
        }

        Wake();
        return frame.TotalBytes;
    }

    /// <summary>Declares that no more frames follow: <see cref="RunAsync(IDuplexPipe, CancellationToken)"/> sends BYE and returns true once everything is acknowledged.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
        }

        Wake();
    }

    /// <summary>Runs one session over <paramref name="stream"/> (e.g. a <see cref="System.Net.Sockets.NetworkStream"/>); the stream is left open.</summary>
    /// <param name="stream">A readable and writable stream.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>See <see cref="RunAsync(IDuplexPipe, CancellationToken)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="IOException">The connection failed.</exception>
    /// <exception cref="StreamProtocolException">The receiver broke the protocol or refused the stream.</exception>
    /// <exception cref="TimeoutException">The receiver was silent for <see cref="StreamSenderOptions.IdleTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another session is running.</exception>
    public Task<bool> RunAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return RunAsync(StreamPipes.Create(stream), cancellationToken);
    }

    /// <summary>
    /// Runs one session: HELLO exchange, resume from the receiver's point, then sending, retransmitting and
    /// keepalives until everything is acknowledged after <see cref="Complete"/> (returns true) or the connection
    /// ends (returns false when the peer closed cleanly; throws otherwise). Call again with a new connection to resume.
    /// Both ends of <paramref name="transport"/> are completed on return.
    /// </summary>
    /// <param name="transport">The connection.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>True when the stream finished; false when the receiver closed the connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="transport"/> is null.</exception>
    /// <exception cref="IOException">The connection failed.</exception>
    /// <exception cref="StreamProtocolException">The receiver broke the protocol or refused the stream.</exception>
    /// <exception cref="TimeoutException">The receiver was silent for <see cref="StreamSenderOptions.IdleTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another session is running.</exception>
    public async Task<bool> RunAsync(IDuplexPipe transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("A session is already running.");
        }

        try
        {
            return await Connection.RunSessionAsync(transport, _options.MaxMessageSize, c => RunSessionAsync(c, cancellationToken), () =>
            {
                lock (_gate)
                {
                    _connection++; // packets in flight on this connection are lost with it
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task<bool> RunSessionAsync(Connection connection, CancellationToken cancellationToken)
    {
        ulong lowest;
        lock (_gate)
        {
            lowest = _frames.Count > 0 ? _ackedBelow : _nextSequence;
        }

        await connection.SendAsync(
            new HelloMessage
            {
                Role = HelloMessage.SenderRole, StreamId = _options.StreamId, ModelId = _options.ModelId,
                Capabilities = Capabilities.SelectiveAck | Capabilities.Backfill | Capabilities.CompactLatent, Sequence = lowest,
            },
            cancellationToken).ConfigureAwait(false);
        var pending = new List<Message>();
        var hello = await connection.ReadHelloAsync(pending, _options.IdleTimeout, cancellationToken).ConfigureAwait(false);
        await CheckHelloAsync(connection, hello, cancellationToken).ConfigureAwait(false);

        int id;
        lock (_gate)
        {
            id = ++_connection;
            _connections++;
            _peerAdapters = hello.AdapterIds;
            _peerCompact = (hello.Capabilities & Capabilities.CompactLatent) != 0 && _options.CompactLatents;
            foreach (var push in _pushes)
            {
                push.Settled |= hello.AdapterIds.Contains(push.ExpertId); // already held by the device

                push.Next = push.Confirmed;
            }

            ResetForConnection();
            AcknowledgeLocked(hello.Sequence, []);
            _rate.OnConnectionStarted();
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = ReadLoopAsync(connection, pending, cts.Token);
        var writing = WriteLoopAsync(connection, id, cts.Token);
        var first = await Task.WhenAny(reading, writing).ConfigureAwait(false);
        if (first == writing && writing.IsCompletedSuccessfully && writing.Result)
        {
            // Linger after BYE until the receiver closes (its read loop ends) or a short time passes: a late ACK the
            // receiver is still writing must not meet a closed TCP socket, whose RST would discard the BYE still
            // waiting in the receiver's buffer and turn a finished session into a connection failure.
            var linger = _options.IdleTimeout < TimeSpan.FromSeconds(2) ? _options.IdleTimeout : TimeSpan.FromSeconds(2);
            await Task.WhenAny(reading, Task.Delay(linger, cancellationToken)).ConfigureAwait(false);
        }

        await cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(reading, writing).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && first.Status == TaskStatus.RanToCompletion)
        {
            // The other loop was stopped by us.
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (writing.IsCompletedSuccessfully && writing.Result)
        {
            return true; // BYE went out: finished, even if the read loop saw the receiver close first
        }

        return first == writing ? await writing.ConfigureAwait(false) : await reading.ConfigureAwait(false);
    }

    private async ValueTask CheckHelloAsync(Connection connection, HelloMessage hello, CancellationToken cancellationToken)
    {
        string? problem = hello.ProtocolVersion != StreamProtocol.Version ? $"protocol version {hello.ProtocolVersion} is not {StreamProtocol.Version}"
            : hello.Role != HelloMessage.ReceiverRole ? "the peer is not a receiver"
            : hello.ModelId != _options.ModelId ? $"the receiver has model {hello.ModelId:x16}, the stream uses {_options.ModelId:x16}"
            : hello.StreamId != _options.StreamId ? $"the receiver answered for stream {hello.StreamId}, not {_options.StreamId}"
            : null;
        if (problem is not null)
        {
            byte reason = hello.ModelId != _options.ModelId ? ByeMessage.ModelMismatch : ByeMessage.ProtocolMismatch;
            await connection.SendAsync(new ByeMessage { Reason = reason, Text = problem }, cancellationToken).ConfigureAwait(false);
            throw new StreamProtocolException("The receiver cannot take this stream: " + problem + ".");
        }
    }

    private async Task<bool> ReadLoopAsync(Connection connection, List<Message> pending, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            foreach (var message in pending)
            {
                switch (message)
                {
                    case AckMessage ack:
                        lock (_gate)
                        {
                            AcknowledgeLocked(ack.Cumulative, ack.Ranges);
                        }

                        Wake();
                        break;
                    case AdapterStatusMessage status:
                        lock (_gate)
                        {
                            OnAdapterStatusLocked(status);
                        }

                        Wake();
                        break;
                    case KeepAliveMessage:
                        break;
                    case ByeMessage bye when bye.Reason == ByeMessage.Finished:
                        return false;
                    case ByeMessage bye:
                        throw new StreamProtocolException($"The receiver ended the session: {bye.Text}");
                    default:
                        throw new StreamProtocolException($"A receiver must not send {message.Type}.");
                }
            }

            pending.Clear();
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
                throw new TimeoutException($"The receiver was silent for {_options.IdleTimeout.TotalSeconds:0.###} s.");
            }
        }
    }

    private async Task<bool> WriteLoopAsync(Connection connection, int id, CancellationToken cancellationToken)
    {
        var batch = new List<Outgoing>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool finished;
            TimeSpan wait;
            lock (_gate)
            {
                finished = FillBatchLocked(batch, id, out wait);
            }

            if (batch.Count > 0)
            {
                await connection.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
                continue;
            }

            if (finished)
            {
                await connection.SendAsync(new ByeMessage { Reason = ByeMessage.Finished, Text = "finished" }, cancellationToken).ConfigureAwait(false);
                return true;
            }

            var keepAliveDue = _options.KeepAliveInterval - TimeSpan.FromMilliseconds(connection.MillisecondsSinceLastSend);
            if (keepAliveDue <= TimeSpan.Zero)
            {
                await connection.SendAsync(KeepAliveMessage.Instance, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _bytesSent += 2;
                }

                continue;
            }

            await _wake.WaitAsync(keepAliveDue < wait ? keepAliveDue : wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool FillBatchLocked(List<Outgoing> batch, int id, out TimeSpan wait)
    {
        long now = Stopwatch.GetTimestamp();
        wait = TimeSpan.FromMilliseconds(500);
        if (_options.LossyTransport)
        {
            DetectLossesLocked(id, now, ref wait);
        }

        int batchBytes = 0;
        // Adapters first: the frames that follow may use them.
        foreach (var push in _pushes)
        {
            // At most AdapterWindowChunks unconfirmed, so a cut costs little and the push cannot flood the link.
            while (!push.Settled && push.Next < push.Bytes.Length && batchBytes < MaxBatchBytes
                && push.Next - push.Confirmed < AdapterWindowChunks * _options.AdapterChunkSize)
            {
                int n = Math.Min(_options.AdapterChunkSize, push.Bytes.Length - push.Next);
                batch.Add(new Outgoing(new AdapterChunkMessage
                {
                    ExpertId = push.ExpertId, Sha256 = push.Sha256, Total = (uint)push.Bytes.Length, Offset = (uint)push.Next,
                    Data = push.Bytes.AsMemory(push.Next, n),
                }, null));
                push.Next += n;
                batchBytes += n + 48;
                _adapterBytes += n;
                _bytesSent += n + 48;
            }
        }

        long window = _rate.GetSendWindow();
        while (_inFlightBytes < window && batchBytes < MaxBatchBytes)
        {
            var next = NextPacketLocked();
            if (next is null)
            {
                _appLimitedUntil = Math.Max(_delivered + _inFlightBytes, 1); // nothing to send with the window open
                break;
            }

            var frame = next.Frame;
            if (frame.HeaderSentOn != id || next.Retransmitted)
            {
                // HEADER goes before a frame's first packet on each connection, and again with retransmissions,
                // because on a lossy relay the HEADER itself may have been lost.
                batch.Add(new Outgoing(new HeaderMessage { StreamId = _options.StreamId, FrameIndex = frame.Index, Header = frame.Header }, null));
                frame.HeaderSentOn = id;
                _bytesSent += 32;
            }

            batch.Add(_peerCompact ? new Outgoing(null, next.CompactMessage, Raw: true) : new Outgoing(null, next.Body));
            next.InFlightOn = id;
            if (_inFlightBytes == 0)
            {
                _deliveredTime = now; // the pipe was empty: start the sample interval at this send, not at the last ACK
            }

            next.SentAt = now;
            next.SendOrder = ++_sendOrder;
            next.DeliveredAtSend = _delivered;
            next.DeliveredTimeAtSend = _deliveredTime;
            next.AppLimitedAtSend = _appLimitedUntil != 0;
            if (_options.LossyTransport)
            {
                _inFlight.Enqueue(next); // kept for loss detection only
            }

            _inFlightBytes += next.WireSize;
            batchBytes += next.WireSize;
            _sent++;
            _bytesSent += _peerCompact ? next.CompactWireSize : next.WireSize;
            _payloadSent += next.Packet.Payload.Length;
        }

        return FinishedLocked;
    }

    /// <summary>
    /// Moves the packets in flight that RACK or the retransmission timeout declares lost to the retransmit queue, and
    /// shortens <paramref name="wait"/> to when the next one could be. Only with <see cref="StreamSenderOptions.LossyTransport"/>:
    /// a reliable stream loses nothing while it lives, and its packets are resent after a reconnect only.
    /// </summary>
    private void DetectLossesLocked(int id, long now, ref TimeSpan wait)
    {
        var rto = RetransmitTimeoutLocked();
        long reorderWindow = Math.Max((long)(_minRtt / 4 * Stopwatch.Frequency), Stopwatch.Frequency / 1000);
        while (TryPeekInFlightLocked(id, out var head))
        {
            // RACK: sent before a packet that has been acknowledged, and out for longer than that packet's round trip
            // plus a reordering window.
            long rackDue = head.SendOrder < _rackOrder ? head.SentAt + _rackRtt + reorderWindow : long.MaxValue;
            if (now >= rackDue)
            {
                MarkLostLocked(head);
                continue;
            }

            var age = Stopwatch.GetElapsedTime(Math.Max(head.SentAt, _rtoArmedAt), now);
            if (age < rto)
            {
                wait = rackDue == long.MaxValue ? rto - age : Min(rto - age, Stopwatch.GetElapsedTime(now, rackDue));
                return;
            }

            // Timeout: everything in flight goes again (the receiver holds a frame's later packets unacknowledged until
            // the missing one comes, so the oldest alone may not be the one it needs); the next timeout is twice as long.
            while (TryPeekInFlightLocked(id, out head))
            {
                MarkLostLocked(head);
            }

            _rtoBackoff = Math.Min(_rtoBackoff + 1, MaxRtoBackoff);
            _rtoArmedAt = now;
        }
    }

    /// <summary>The oldest packet still in flight on connection <paramref name="id"/>; acknowledged and stale entries are dropped.</summary>
    private bool TryPeekInFlightLocked(int id, [NotNullWhen(true)] out SenderPacket? head)
    {
        while (_inFlight.TryPeek(out head))
        {
            if (!head.Acked && head.InFlightOn == id)
            {
                return true;
            }

            _inFlight.Dequeue();
        }

        return false;
    }

    /// <summary>
    /// The retransmission timeout as in RFC 6298 (smoothed RTT plus four deviations, at least twice the smoothed RTT and
    /// <see cref="StreamSenderOptions.MinRetransmitTimeout"/>; 1 s before the first sample), doubled for each timeout since
    /// the last acknowledgement. It runs from the latest of the oldest packet's send, the last acknowledgement and the
    /// last timeout, so a queue that drains never fires it.
    /// </summary>
    private TimeSpan RetransmitTimeoutLocked()
    {
        double seconds = _smoothedRtt == 0
            ? Math.Max(_options.MinRetransmitTimeout.TotalSeconds, InitialRetransmitTimeout.TotalSeconds)
            : Math.Max(_options.MinRetransmitTimeout.TotalSeconds, Math.Max(2 * _smoothedRtt, _smoothedRtt + (4 * _rttVariation)));
        return TimeSpan.FromSeconds(Math.Min(seconds * (1 << _rtoBackoff), MaxRetransmitTimeout.TotalSeconds));
    }

    /// <summary>Takes one round trip of a packet sent once (Karn: never of a retransmission) into the smoothed RTT.</summary>
    private void UpdateRoundTripLocked(double rtt)
    {
        _minRtt = _minRtt == 0 ? rtt : Math.Min(_minRtt, rtt);
        if (_smoothedRtt == 0)
        {
            _smoothedRtt = rtt;
            _rttVariation = rtt / 2;
        }
        else
        {
            _rttVariation = (0.75 * _rttVariation) + (0.25 * Math.Abs(_smoothedRtt - rtt));
            _smoothedRtt = (0.875 * _smoothedRtt) + (0.125 * rtt);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void AdvanceRackLocked(SenderPacket p, TimeSpan rtt)
    {
        if (p.SendOrder > _rackOrder)
        {
            _rackOrder = p.SendOrder;
            _rackRtt = (long)(rtt.TotalSeconds * Stopwatch.Frequency);
        }
    }

    private void MarkLostLocked(SenderPacket head)
    {
        _inFlight.Dequeue();
        head.InFlightOn = 0;
        _inFlightBytes -= head.WireSize;
        _retransmit.Enqueue(head);
    }

    private SenderPacket? NextPacketLocked()
    {
        while (_retransmit.TryDequeue(out var again))
        {
            if (!again.Acked)
            {
                again.Retransmitted = true;
                _retransmitted++;
                return again;
            }
        }

        long queued = _inFlightBytes;
        foreach (var frame in _frames)
        {
            if (!frame.Decided)
            {
                int layers = Math.Clamp(_rate.ChooseLayers(frame.LayerBytes, queued), 1, frame.LayerBytes.Length);
                frame.Decided = true;
                frame.Released = layers * frame.Header.TileCount;
                if (layers < frame.LayerBytes.Length)
                {
                    _deferred++;
                }
            }

            while (frame.NextToSend < frame.Released)
            {
                var p = frame.Packets[frame.NextToSend++];
                if (!p.Acked && p.InFlightOn == 0)
                {
                    return p;
                }
            }
        }

        // Nothing new: back-fill the oldest frame's next deferred layer if the controller allows it.
        foreach (var frame in _frames)
        {
            if (frame.Released < frame.Packets.Length)
            {
                int layer = frame.Released / frame.Header.TileCount;
                if (!_rate.CanBackfill(frame.LayerBytes[layer], _inFlightBytes))
                {
                    return null;
                }

                frame.Released += frame.Header.TileCount;
                _backfilled++;
                return NextPacketLocked();
            }
        }

        return null;
    }

    private void AcknowledgeLocked(ulong cumulative, IReadOnlyList<(ulong Start, ulong End)> ranges)
    {
        long now = Stopwatch.GetTimestamp();
        ulong top = Math.Min(cumulative, _nextSequence);
        for (ulong s = _ackedBelow; s < top; s++)
        {
            AckOne(s, now);
        }

        _ackedBelow = Math.Max(_ackedBelow, top);
        foreach (var (start, end) in ranges)
        {
            ulong from = Math.Max(start, _ackedBelow);
            ulong to = Math.Min(end, _nextSequence);
            for (ulong s = from; s < to; s++)
            {
                AckOne(s, now);
            }
        }
    }

    private void AckOne(ulong sequence, long now)
    {
        if (!_bySequence.Remove(sequence, out var p))
        {
            return;
        }

        p.Acked = true;
        _acked++;
        _rtoArmedAt = now;
        _rtoBackoff = 0; // the link is alive; the backoff is for a silent one
        var frame = p.Frame;
        if (p.InFlightOn == _connection && p.InFlightOn != 0)
        {
            _inFlightBytes -= p.WireSize;
            _delivered += p.WireSize;
            _deliveredTime = now;
            if (_appLimitedUntil != 0 && _delivered > _appLimitedUntil)
            {
                _appLimitedUntil = 0;
            }

            var rtt = Stopwatch.GetElapsedTime(p.SentAt, now);
            if (!p.Retransmitted) // Karn: an ACK of a resent packet may be the original's, so it times nothing
            {
                AdvanceRackLocked(p, rtt);
                double interval = Stopwatch.GetElapsedTime(p.DeliveredTimeAtSend, now).TotalSeconds;
                double rate = interval > 0 ? (_delivered - p.DeliveredAtSend) / interval : 0;
                UpdateRoundTripLocked(rtt.TotalSeconds);
                _rate.OnAcknowledged(new RateSample(p.WireSize, rate, rtt, p.AppLimitedAtSend));
            }
        }

        p.InFlightOn = 0;
        if (--frame.Unacked == 0)
        {
            _frames.Remove(frame);
            _bufferedBytes -= frame.TotalBytes;
            if (_space.CurrentCount == 0)
            {
                _space.Release();
            }
        }
    }

    private void OnAdapterStatusLocked(AdapterStatusMessage status)
    {
        var push = _pushes.FirstOrDefault(p => p.ExpertId == status.ExpertId && p.Sha256.AsSpan().SequenceEqual(status.Sha256));
        if (push is null || push.Settled)
        {
            return; // not ours, or already settled
        }

        switch (status.State)
        {
            case AdapterStatusMessage.Installed:
                push.Settled = true;
                _adaptersInstalled++;
                break;
            case AdapterStatusMessage.Rejected:
                push.Settled = true;
                _adaptersRejected++;
                break;
            case AdapterStatusMessage.Resend:
                push.Confirmed = (int)Math.Min(status.Have, (uint)push.Bytes.Length);
                push.Next = push.Confirmed;
                break;
            default:
                // Receiving: also sent right after HELLO for a transfer cut earlier, so the push resumes there.
                push.Confirmed = Math.Max(push.Confirmed, (int)Math.Min(status.Have, (uint)push.Bytes.Length));
                push.Next = Math.Max(push.Next, push.Confirmed);
                break;
        }
    }

    private void ResetForConnection()
    {
        _inFlight.Clear();
        _retransmit.Clear();
        _inFlightBytes = 0;
        _rackOrder = 0;
        _rtoArmedAt = 0;
        foreach (var frame in _frames)
        {
            frame.NextToSend = 0;
            frame.HeaderSentOn = 0;
            foreach (var p in frame.Packets)
            {
                p.InFlightOn = 0;
            }
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private SenderFrame Prepare(ContainerHeader header, IReadOnlyList<LatentPacket> packets)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(packets);
        int tiles = header.TileCount;
        if (packets.Count != tiles * header.LayerCount)
        {
            throw new ArgumentException($"A frame of {tiles} tiles x {header.LayerCount} layers has {tiles * header.LayerCount} packets, not {packets.Count}.", nameof(packets));
        }

        if (header.ModelId != _options.ModelId)
        {
            throw new ArgumentException($"The frame uses model {header.ModelId:x16}, the sender {_options.ModelId:x16}.", nameof(header));
        }

        uint index = packets[0].FrameIndex;
        var frame = new SenderFrame(header, index) { LayerBytes = new long[header.LayerCount], Unacked = packets.Count };
        var prepared = new SenderPacket[packets.Count];
        for (int i = 0; i < packets.Count; i++)
        {
            var p = packets[i] ?? throw new ArgumentException("A packet is null.", nameof(packets));
            if (p.FrameIndex != index || p.Layer != i / tiles || p.TileIndex != i % tiles || p.StreamId != _options.StreamId
                || p.ModelId != _options.ModelId || p.Sequence != packets[0].Sequence + (ulong)i)
            {
                throw new ArgumentException($"Packet {i} (frame {p.FrameIndex}, layer {p.Layer}, tile {p.TileIndex}, stream {p.StreamId}, sequence {p.Sequence}) breaks prefix order, dense sequences or the stream/model id.", nameof(packets));
            }

            prepared[i] = new SenderPacket(p, MessageCodec.SerializePacketBody(p), frame);
            frame.LayerBytes[p.Layer] += prepared[i].WireSize;
            frame.TotalBytes += prepared[i].WireSize;
        }

        frame.Packets = prepared;
        return frame;
    }
}
