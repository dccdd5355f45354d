using System.Buffers;

namespace EdgeCodec.Format;

/// <summary>
/// Reads <c>.ecx</c> container files of either <see cref="ContainerLayout"/>, complete or damaged. A bad header is an
/// error; a damaged or missing tail is not: the result holds every intact packet before the damage and says where and
/// why reading stopped.
/// </summary>
public static class ContainerReader
{
    /// <summary>Reads a container from the current position of <paramref name="stream"/> to its end.</summary>
    /// <param name="stream">A readable stream; offsets in the result are relative to its starting position.</param>
    /// <param name="options">Limits, or <see langword="null"/> for <see cref="ContainerReadOptions.Default"/>.</param>
    /// <returns>The recovered header and packets, and a report of how the read ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is <see langword="null"/>.</exception>
    /// <exception cref="EdgeCodecFormatException">
    /// The header is missing, damaged or unsupported, or the file exceeds <see cref="ContainerReadOptions.MaxFileSize"/>
    /// (<see cref="FormatError.LimitExceeded"/>).
    /// </exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static ContainerReadResult Read(Stream stream, ContainerReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= ContainerReadOptions.Default;
        return Read(ReadAll(stream, options.MaxFileSize), options);
    }

    /// <summary>Reads a container from <paramref name="stream"/> asynchronously (see <see cref="Read(Stream, ContainerReadOptions?)"/>).</summary>
    /// <param name="stream">A readable stream.</param>
    /// <param name="options">Limits, or <see langword="null"/> for defaults.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The recovered header and packets, and a report of how the read ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is <see langword="null"/>.</exception>
    /// <exception cref="EdgeCodecFormatException">The header is missing, damaged or unsupported, or the file is over the size limit.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<ContainerReadResult> ReadAsync(Stream stream, ContainerReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= ContainerReadOptions.Default;
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > options.MaxFileSize)
            {
                throw TooLarge(options.MaxFileSize);
            }

            buffer.Write(chunk, 0, read);
        }

        return Read(buffer.ToArray(), options);
    }

    /// <summary>Reads a container held in memory.</summary>
    /// <param name="file">The whole file.</param>
    /// <param name="options">Limits, or <see langword="null"/> for defaults.</param>
    /// <returns>The recovered header and packets, and a report of how the read ended.</returns>
    /// <exception cref="EdgeCodecFormatException">The header is missing, damaged or unsupported, or the file is over the size limit.</exception>
    public static ContainerReadResult Read(ReadOnlyMemory<byte> file, ContainerReadOptions? options = null)
    {
        options ??= ContainerReadOptions.Default;
        if (file.Length > options.MaxFileSize)
        {
            throw TooLarge(options.MaxFileSize);
        }

        if (CompactContainer.HasMagic(file.Span))
        {
            return CompactContainer.Read(file, options);
        }

        ContainerHeader header = ContainerHeader.Parse(file.Span);
        ContainerIndexEntry[]? index = IndexedTail.TryReadIndex(file.Span, options.MaxPackets);
        if (index is not null)
        {
            ContainerReadResult? indexed = TryReadIndexed(file, header, index, options);
            if (indexed is not null)
            {
                return indexed;
            }
        }

        return Scan(file, header, options);
    }

    private static ContainerReadResult? TryReadIndexed(ReadOnlyMemory<byte> file, ContainerHeader header, ContainerIndexEntry[] index, ContainerReadOptions options)
    {
        // The index is trusted only if it tiles the packet region exactly and every packet parses and matches it;
        // anything else falls back to the sequential scan, which needs no index.
        var packets = new LatentPacket[index.Length];
        long expected = ContainerHeader.Size;
        ulong? previous = null;
        for (int i = 0; i < index.Length; i++)
        {
            ContainerIndexEntry entry = index[i];
            if (entry.Offset != expected || entry.Length <= 0 || entry.Offset + entry.Length > file.Length)
            {
                return null;
            }

            var frame = new ReadOnlySequence<byte>(file.Slice((int)entry.Offset, entry.Length));
            try
            {
                if (!PacketFraming.TryRead(ref frame, options.Packet, out LatentPacket? packet) || !frame.IsEmpty
                    || packet.FrameIndex != entry.FrameIndex || packet.TileIndex != entry.TileIndex || packet.Layer != entry.Layer
                    || ContainerRules.FindProblem(header, packet, previous) is not null)
                {
                    return null;
                }

                packets[i] = packet;
                previous = ContainerRules.OrderKey(packet.FrameIndex, packet.Layer, packet.TileIndex);
            }
            catch (EdgeCodecFormatException)
            {
                return null;
            }

            expected += entry.Length;
        }

        if (expected >= file.Length || file.Span[(int)expected] != IndexedTail.Terminator || expected + 1 + IndexedTail.IndexCountSize + (index.Length * IndexedTail.IndexEntrySize) + IndexedTail.FooterSize != file.Length)
        {
            return null;
        }

        return new ContainerReadResult(header, packets, index, ContainerReadStatus.Complete, expected, null, usedIndex: true, null);
    }

    private static ContainerReadResult Scan(ReadOnlyMemory<byte> file, ContainerHeader header, ContainerReadOptions options)
    {
        var packets = new List<LatentPacket>();
        var entries = new List<ContainerIndexEntry>();
        long pos = ContainerHeader.Size;
        ulong? previous = null;

        ContainerReadResult Stop(ContainerReadStatus status, long? badOffset, string message) =>
            new(header, packets, entries, status, pos, badOffset, usedIndex: false, message);

        while (true)
        {
            if (pos == file.Length)
            {
                return Stop(ContainerReadStatus.Truncated, pos, "The file ends after the last packet, before the index (an interrupted write).");
            }

            if (file.Span[(int)pos] == IndexedTail.Terminator)
            {
                return CheckTail(file, header, options, packets, entries, pos);
            }

            if (packets.Count >= options.MaxPackets)
            {
                return Stop(ContainerReadStatus.LimitExceeded, pos, $"More than {options.MaxPackets} packets.");
            }

            var rest = new ReadOnlySequence<byte>(file[(int)pos..]);
            LatentPacket? packet;
            try
            {
                if (!PacketFraming.TryRead(ref rest, options.Packet, out packet))
                {
                    return Stop(ContainerReadStatus.Truncated, pos, "The last packet is cut short (an interrupted write).");
                }
            }
            catch (EdgeCodecFormatException e)
            {
                ContainerReadStatus status = e.Error switch
                {
                    FormatError.CrcMismatch => ContainerReadStatus.CrcMismatch,
                    FormatError.LimitExceeded => ContainerReadStatus.LimitExceeded,
                    _ => ContainerReadStatus.Malformed,
                };
                return Stop(status, pos + (e.Offset ?? 0), e.Message);
            }

            string? problem = ContainerRules.FindProblem(header, packet, previous);
            if (problem is not null)
            {
                return Stop(ContainerReadStatus.Malformed, pos, problem);
            }

            int length = (int)(file.Length - pos - rest.Length);
            entries.Add(new ContainerIndexEntry(packet.FrameIndex, packet.TileIndex, packet.Layer, pos, length));
            packets.Add(packet);
            previous = ContainerRules.OrderKey(packet.FrameIndex, packet.Layer, packet.TileIndex);
            pos += length;
        }
    }

    private static ContainerReadResult CheckTail(ReadOnlyMemory<byte> file, ContainerHeader header, ContainerReadOptions options, List<LatentPacket> packets, List<ContainerIndexEntry> entries, long terminator)
    {
        long expectedEnd = terminator + 1 + IndexedTail.IndexCountSize + ((long)entries.Count * IndexedTail.IndexEntrySize) + IndexedTail.FooterSize;
        if (file.Length < expectedEnd)
        {
            return new(header, packets, entries, ContainerReadStatus.Truncated, terminator, file.Length, usedIndex: false, "The file ends inside the index or footer (an interrupted Complete).");
        }

        ContainerIndexEntry[]? index = IndexedTail.TryReadIndex(file.Span, options.MaxPackets);
        if (file.Length != expectedEnd || index is null || !index.AsSpan().SequenceEqual(entries.ToArray()))
        {
            return new(header, packets, entries, ContainerReadStatus.IndexCorrupt, terminator, terminator + 1, usedIndex: false, "Every packet was recovered, but the index or footer after them is damaged.");
        }

        return new(header, packets, entries, ContainerReadStatus.Complete, terminator, null, usedIndex: false, null);
    }

    private static byte[] ReadAll(Stream stream, long maxFileSize)
    {
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining > maxFileSize)
            {
                throw TooLarge(maxFileSize);
            }

            var data = new byte[remaining];
            stream.ReadExactly(data);
            return data;
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > maxFileSize)
            {
                throw TooLarge(maxFileSize);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static EdgeCodecFormatException TooLarge(long max) => new($"Container exceeds the {max}-byte limit.", FormatError.LimitExceeded);
}
