using System.Buffers;

namespace EdgeCodec.Format;

/// <summary>
/// Writes an <c>.ecx</c> container: packet by packet in the indexed layout (header, framed packets in prefix order,
/// then index and footer on <see cref="Complete"/>), or whole in either layout (<see cref="Write"/>).
/// </summary>
/// <remarks>
/// Crash safety: the header and each packet are written whole and flushed before the call returns, and every
/// packet carries its own CRC, so a file cut at any byte still yields every packet that was fully written
/// (see <see cref="ContainerReader"/>). Disposing without <see cref="Complete"/> leaves such a partial file, which
/// <see cref="OpenForAppend"/> can continue. A write that fails part-way (a full disk) may leave part of a packet at the
/// end of the stream: the writer then refuses further writes, and <see cref="OpenForAppend"/> continues the file after
/// its last whole packet.
/// </remarks>
public sealed class ContainerWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly List<ContainerIndexEntry> _entries;
    private readonly ArrayBufferWriter<byte> _frame = new();
    private long _position;
    private ulong? _previousKey;
    private bool _completed;
    private bool _faulted;
    private bool _disposed;

    /// <summary>Starts a new container at the current position of <paramref name="stream"/> and writes the header.</summary>
    /// <param name="stream">A writable stream, positioned at the start of the file.</param>
    /// <param name="header">The file header.</param>
    /// <param name="leaveOpen"><see langword="true"/> to leave <paramref name="stream"/> open when the writer is disposed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="header"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable or <paramref name="header"/> is invalid.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public ContainerWriter(Stream stream, ContainerHeader header, bool leaveOpen = false)
        : this(stream, header, leaveOpen, new List<ContainerIndexEntry>(), 0, null)
    {
        Span<byte> bytes = stackalloc byte[ContainerHeader.Size];
        header.Write(bytes);
        _stream.Write(bytes);
        _stream.Flush();
        _position = ContainerHeader.Size;
    }

    private ContainerWriter(Stream stream, ContainerHeader header, bool leaveOpen, List<ContainerIndexEntry> entries, long position, ulong? previousKey)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(header);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        }

        header.Validate();
        _stream = stream;
        Header = header;
        _leaveOpen = leaveOpen;
        _entries = entries;
        _position = position;
        _previousKey = previousKey;
    }

    /// <summary>The file header.</summary>
    public ContainerHeader Header { get; }

    /// <summary>Number of packets in the file so far (including those found by <see cref="OpenForAppend"/>).</summary>
    public int PacketCount => _entries.Count;

    /// <summary>
    /// Reopens a partial (or complete) container for appending: keeps every intact packet, truncates everything after
    /// the last one (a cut packet, or the old index and footer) and continues from there.
    /// </summary>
    /// <param name="stream">A readable, writable, seekable stream holding the file from position 0.</param>
    /// <param name="options">Limits for reading the existing file, or <see langword="null"/> for defaults.</param>
    /// <param name="leaveOpen"><see langword="true"/> to leave <paramref name="stream"/> open when the writer is disposed.</param>
    /// <returns>A writer positioned after the last intact packet.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> cannot read, write and seek, or holds a compact container.</exception>
    /// <exception cref="EdgeCodecFormatException">The existing header is missing, damaged or unsupported, or the file is over the size limit.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static ContainerWriter OpenForAppend(Stream stream, ContainerReadOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanWrite || !stream.CanSeek)
        {
            throw new ArgumentException("Appending needs a readable, writable and seekable stream.", nameof(stream));
        }

        stream.Position = 0;
        ContainerReadResult existing = ContainerReader.Read(stream, options);
        if (existing.Layout != ContainerLayout.Indexed)
        {
            throw new ArgumentException("Only an indexed container can be appended to; a compact one is written whole (ContainerWriter.Write).", nameof(stream));
        }

        stream.SetLength(existing.BytesConsumed);
        stream.Position = existing.BytesConsumed;
        stream.Flush();
        ulong? previous = existing.Packets.Count == 0 ? null : KeyOf(existing.Packets[^1]);
        return new ContainerWriter(stream, existing.Header, leaveOpen, existing.Entries.ToList(), existing.BytesConsumed, previous);
    }

    /// <summary>Appends one packet and flushes it.</summary>
    /// <param name="packet">A packet of this file's model, inside its grid, after the previous packet in prefix order
    /// (frame, then layer, then tile, strictly increasing).</param>
    /// <exception cref="ArgumentNullException"><paramref name="packet"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The packet does not belong in this file or breaks prefix order.</exception>
    /// <exception cref="InvalidOperationException">The container was completed, or an earlier write failed.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    /// <exception cref="IOException">The stream failed (the writer refuses further writes).</exception>
    public void Append(LatentPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ThrowIfClosed();
        string? problem = ContainerRules.FindProblem(Header, packet, _previousKey);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(packet));
        }

        _frame.ResetWrittenCount();
        PacketFraming.Write(_frame, packet);
        WriteAndFlush(_frame.WrittenSpan);
        _entries.Add(new ContainerIndexEntry(packet.FrameIndex, packet.TileIndex, packet.Layer, _position, _frame.WrittenCount));
        _position += _frame.WrittenCount;
        _previousKey = KeyOf(packet);
    }

    /// <summary>Writes the terminator, the index and the footer, and flushes. No packets can be appended afterwards.</summary>
    /// <exception cref="InvalidOperationException">The container was already completed, or an earlier write failed.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    /// <exception cref="IOException">The stream failed (the writer refuses further writes).</exception>
    public void Complete()
    {
        ThrowIfClosed();
        byte[] tail = IndexedTail.BuildTail(_entries, _position);
        WriteAndFlush(tail);
        _position += tail.Length;
        _completed = true;
    }

    /// <summary>
    /// Writes a complete container holding only the first <paramref name="layers"/> refinement layers of every tile of
    /// <paramref name="source"/>: the picture a decoder shows from that prefix, at that prefix's size, without
    /// re-encoding (a server keeps one file per picture and serves smaller ones to slow links or small devices).
    /// </summary>
    /// <remarks>
    /// The result has the source's <see cref="ContainerReadResult.Layout"/>. The packets keep their bytes, in the
    /// source's order, and the header says <paramref name="layers"/> layers, so a decoder reports the result as
    /// complete. Without domain adapters the result equals what the encoder writes when asked for
    /// <paramref name="layers"/> layers. Packets that a damaged source had lost stay missing (a compact result then
    /// reads as truncated).
    /// </remarks>
    /// <param name="source">A container as read by <see cref="ContainerReader"/>.</param>
    /// <param name="layers">Layers to keep, 1 .. the source's layer count.</param>
    /// <param name="destination">A writable stream, positioned at the start of the new file; left open.</param>
    /// <param name="layout">The layout to write, or <see langword="null"/> for the source's (a compact result needs a source of one frame).</param>
    /// <returns>The number of packets written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layers"/> is outside 1 .. the source's layer count.</exception>
    /// <exception cref="ArgumentException">A compact result was asked of a source with packets of more than one frame.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static int WriteLayerPrefix(ContainerReadResult source, int layers, Stream destination, ContainerLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layers, (int)source.Header.LayerCount);
        LatentPacket[] kept = source.Packets.Where(p => p.Layer < layers).ToArray();
        Write(source.Header.WithLayerCount(layers), kept, destination, layout ?? source.Layout);
        return kept.Length;
    }

    /// <summary>
    /// Writes <paramref name="source"/> with a preview layer (<see cref="ContainerHeader.PreviewLayer"/>), without
    /// re-encoding: each base-layer packet is split into its z stream (layer 0) and its group-0 stream (layer 1), and
    /// every later layer moves up by one. The payloads are the source's bytes, so the result decodes to the same
    /// pictures, layer for layer, and shows a blurred whole picture after its first packets (docs/format.md, "The
    /// preview layer"). Packets keep their stream id, frame, tile and expert; sequence numbers are renumbered in the
    /// new prefix order from the source's first. A damaged or truncated source gives what its intact packets hold (in
    /// the compact layout, up to the first gap they leave).
    /// </summary>
    /// <param name="source">A container without a preview layer, as read by <see cref="ContainerReader"/>.</param>
    /// <param name="destination">A writable stream, positioned at the start of the new file; left open.</param>
    /// <param name="layout">The layout to write, or <see langword="null"/> for the source's (a compact result needs a source of one frame).</param>
    /// <returns>The number of packets written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The source already has a preview layer or 255 layers, or a compact result was asked of packets it cannot hold.</exception>
    /// <exception cref="EdgeCodecFormatException">A base-layer payload is malformed (its z-stream length) or holds an empty stream.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static int WriteWithPreviewLayer(ContainerReadResult source, Stream destination, ContainerLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ContainerHeader h = source.Header;
        if (h.PreviewLayer)
        {
            throw new ArgumentException("The container already has a preview layer.", nameof(source));
        }

        if (h.LayerCount == byte.MaxValue)
        {
            throw new ArgumentException($"A container of {h.LayerCount} layers has no room for one more.", nameof(source));
        }

        var header = ContainerHeader.Create(h.ModelId, h.Width, h.Height, h.TileWidth, h.TileHeight, (byte)(h.LayerCount + 1), h.FrameCount, h.QualityLevel, previewLayer: true);
        var packets = new List<LatentPacket>(source.Packets.Count + h.TileCount);
        ulong sequence = source.Packets.Count > 0 ? source.Packets[0].Sequence : 0;
        foreach (var frame in source.Packets.GroupBy(p => p.FrameIndex)) // the source is in prefix order: frame by frame
        {
            var z = new List<(LatentPacket Packet, ReadOnlyMemory<byte> Stream)>();
            var group0 = new List<(LatentPacket Packet, ReadOnlyMemory<byte> Stream)>();
            foreach (LatentPacket p in frame.Where(p => p.Layer == 0))
            {
                var (zStream, group0Stream) = Codec.LayerPayload.SplitBase(p.Payload);
                if (zStream.IsEmpty || group0Stream.IsEmpty)
                {
                    throw new EdgeCodecFormatException($"Frame {p.FrameIndex}, tile {p.TileIndex}: the base-layer payload holds no {(zStream.IsEmpty ? "z" : "group-0")} stream.", FormatError.Malformed);
                }

                z.Add((p, zStream));
                group0.Add((p, group0Stream));
            }

            packets.AddRange(z.Select(e => Moved(e.Packet, 0, e.Stream, sequence++)));
            packets.AddRange(group0.Select(e => Moved(e.Packet, 1, e.Stream, sequence++)));
            packets.AddRange(frame.Where(p => p.Layer > 0).Select(p => Moved(p, p.Layer + 1, p.Payload, sequence++)));
        }

        ContainerLayout target = layout ?? source.Layout;
        if (target == ContainerLayout.Compact && packets.All(p => p.FrameIndex == packets[0].FrameIndex)) // more frames: Write rejects them
        {
            // A compact file is a gapless prefix of one frame: a source cut inside its base layer has z for fewer
            // than all tiles, and its group-0 packets would leave a gap after them. Keep the gapless part.
            KeepGaplessPrefix(packets, header.TileCount);
        }

        Write(header, packets, destination, target);
        return packets.Count;
    }

    /// <summary>
    /// Writes <paramref name="source"/>, a container with a preview layer, without it, as a container of format
    /// version 1 that readers from before the preview layer read: each tile's z packet (layer 0) and group-0 packet
    /// (layer 1) join into one base-layer packet again, and every later layer moves down by one. The inverse of
    /// <see cref="WriteWithPreviewLayer"/>: the payloads are the source's bytes, the pictures are the same layer for
    /// layer, and a file that <see cref="WriteWithPreviewLayer"/> wrote comes back byte for byte. Sequence numbers
    /// are renumbered in the new prefix order from the source's first. A tile whose z or group-0 packet is missing
    /// (a cut or damaged source) has no base layer in the result; the result then shows that tile as a decoder shows
    /// any lost base (in the compact layout, the result ends at the first such gap).
    /// </summary>
    /// <param name="source">A container with a preview layer, as read by <see cref="ContainerReader"/>.</param>
    /// <param name="destination">A writable stream, positioned at the start of the new file; left open.</param>
    /// <param name="layout">The layout to write, or <see langword="null"/> for the source's (a compact result needs a source of one frame).</param>
    /// <returns>The number of packets written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// The source has no preview layer, or holds nothing but the preview layer (a file without one has no layer for
    /// z alone), or a compact result was asked of packets it cannot hold.
    /// </exception>
    /// <exception cref="EdgeCodecFormatException">A z or group-0 packet holds an empty stream.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static int WriteWithoutPreviewLayer(ContainerReadResult source, Stream destination, ContainerLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ContainerHeader h = source.Header;
        if (!h.PreviewLayer)
        {
            throw new ArgumentException("The container has no preview layer.", nameof(source));
        }

        if (h.LayerCount < 2)
        {
            throw new ArgumentException("The container holds only its preview layer; without one, z travels with group 0, which it does not have.", nameof(source));
        }

        var header = ContainerHeader.Create(h.ModelId, h.Width, h.Height, h.TileWidth, h.TileHeight, (byte)(h.LayerCount - 1), h.FrameCount, h.QualityLevel);
        var packets = new List<LatentPacket>(source.Packets.Count);
        ulong sequence = source.Packets.Count > 0 ? source.Packets[0].Sequence : 0;
        foreach (var frame in source.Packets.GroupBy(p => p.FrameIndex)) // the source is in prefix order: frame by frame
        {
            var z = new Dictionary<ushort, LatentPacket>();
            foreach (LatentPacket p in frame.Where(p => p.Layer == 0))
            {
                z[p.TileIndex] = p;
            }

            foreach (LatentPacket group0 in frame.Where(p => p.Layer == 1))
            {
                if (!z.TryGetValue(group0.TileIndex, out LatentPacket? zPacket))
                {
                    continue; // no z: this tile has no base layer
                }

                if (zPacket.Payload.IsEmpty || group0.Payload.IsEmpty)
                {
                    throw new EdgeCodecFormatException($"Frame {group0.FrameIndex}, tile {group0.TileIndex}: the {(zPacket.Payload.IsEmpty ? "z" : "group-0")} packet holds an empty stream.", FormatError.Malformed);
                }

                byte[] payload = Codec.LayerPayload.EncodeBase(zPacket.Payload.Span, group0.Payload.Span);
                packets.Add(Moved(group0, 0, payload, sequence++));
            }

            packets.AddRange(frame.Where(p => p.Layer > 1).Select(p => Moved(p, p.Layer - 1, p.Payload, sequence++)));
        }

        ContainerLayout target = layout ?? source.Layout;
        if (target == ContainerLayout.Compact && packets.Count > 0 && packets.All(p => p.FrameIndex == packets[0].FrameIndex))
        {
            KeepGaplessPrefix(packets, header.TileCount); // a cut source: the tiles that got their base, up to the first gap
        }

        Write(header, packets, destination, target);
        return packets.Count;
    }

    /// <summary>A packet moved to another layer (and sequence number), with the rest of its identity kept.</summary>
    private static LatentPacket Moved(LatentPacket p, int layer, ReadOnlyMemory<byte> payload, ulong sequence) => new()
    {
        StreamId = p.StreamId, Sequence = sequence, FrameIndex = p.FrameIndex, TileIndex = p.TileIndex, Layer = checked((byte)layer),
        ExpertId = p.ExpertId, ModelId = p.ModelId, Payload = payload,
    };

    /// <summary>
    /// Cuts one frame's packets, in prefix order, to their gapless prefix (layer by layer, tile by tile from the
    /// first): what a compact container holds.
    /// </summary>
    private static void KeepGaplessPrefix(List<LatentPacket> packets, int tiles)
    {
        int gapless = 0;
        while (gapless < packets.Count && packets[gapless].Layer == gapless / tiles && packets[gapless].TileIndex == gapless % tiles)
        {
            gapless++;
        }

        packets.RemoveRange(gapless, packets.Count - gapless);
    }

    /// <summary>Writes a complete container of <paramref name="packets"/> in <paramref name="layout"/>, and flushes it.</summary>
    /// <param name="header">The file header.</param>
    /// <param name="packets">
    /// The packets, in prefix order (frame, then layer, then tile). <see cref="ContainerLayout.Compact"/> holds one
    /// frame's packets from the first on without gaps (a prefix of that frame's stream) and keeps no stream id or
    /// sequence number: reading it back gives stream id 0 and the packets' positions as sequence numbers.
    /// </param>
    /// <param name="destination">A writable stream, positioned at the start of the new file; left open.</param>
    /// <param name="layout">The file layout.</param>
    /// <returns>Bytes written.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// The header is invalid, or a packet does not belong in the file (another model, outside the grid, out of prefix
    /// order; for the compact layout, another frame or a gap).
    /// </exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static long Write(ContainerHeader header, IReadOnlyList<LatentPacket> packets, Stream destination, ContainerLayout layout)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(packets);
        ArgumentNullException.ThrowIfNull(destination);
        if (layout == ContainerLayout.Compact)
        {
            return CompactContainer.Write(header, packets, destination);
        }

        if (layout != ContainerLayout.Indexed)
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown container layout.");
        }

        using var writer = new ContainerWriter(destination, header, leaveOpen: true);
        foreach (LatentPacket packet in packets)
        {
            writer.Append(packet);
        }

        writer.Complete();
        return writer._position;
    }

    /// <summary>
    /// Writes the longest layer prefix of <paramref name="source"/> whose complete container fits in
    /// <paramref name="maxBytes"/>, as <see cref="WriteLayerPrefix"/> writes it (a device store that must shrink a
    /// picture to a quota, a server that serves a size cap).
    /// </summary>
    /// <param name="source">A container as read by <see cref="ContainerReader"/>.</param>
    /// <param name="maxBytes">The largest container, in bytes, that may be written.</param>
    /// <param name="destination">A writable stream, positioned at the start of the new file; left open. Nothing is
    /// written to it when even the base layer does not fit.</param>
    /// <param name="layout">The layout to write, or <see langword="null"/> for the source's.</param>
    /// <returns>The number of layers written, or 0 when the base layer alone does not fit.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A compact result was asked of a source with packets of more than one frame.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static int WriteLayerPrefixWithin(ContainerReadResult source, long maxBytes, Stream destination, ContainerLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        using var candidate = new MemoryStream();
        for (int layers = source.Header.LayerCount; layers >= 1; layers--)
        {
            candidate.SetLength(0);
            WriteLayerPrefix(source, layers, candidate, layout);
            if (candidate.Length <= maxBytes)
            {
                candidate.Position = 0;
                candidate.CopyTo(destination);
                destination.Flush();
                return layers;
            }
        }

        return 0;
    }

    /// <summary>Releases the stream unless the writer was created with leaveOpen; does not complete the file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private static ulong KeyOf(LatentPacket packet) => ContainerRules.OrderKey(packet.FrameIndex, packet.Layer, packet.TileIndex);

    private void WriteAndFlush(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _stream.Write(bytes);
            _stream.Flush();
        }
        catch
        {
            _faulted = true; // part of it may be in the stream: appending after it would break the file
            throw;
        }
    }

    private void ThrowIfClosed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("The container is complete; no more packets can be written.");
        }

        if (_faulted)
        {
            throw new InvalidOperationException(
                "A write of this container failed part-way; reopen the file with ContainerWriter.OpenForAppend to continue after its last whole packet.");
        }
    }
}
