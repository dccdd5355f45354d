using System.Globalization;
using EdgeCodec.Format;

namespace EdgeCodec.Streaming;

/// <summary>
/// One <c>.ecx</c> container per frame, written with <see cref="ContainerWriter"/> in prefix order. The receiver
/// appends a packet only when every packet before it in prefix order is stored, so each file is always a valid
/// prefix; a kill at any byte loses at most the packet being written, which was not yet acknowledged.
/// </summary>
internal sealed class ReceiverStore(string directory, int maxOpenFiles) : IDisposable
{
    private readonly LinkedList<(uint Frame, ContainerWriter Writer)> _open = new();

    public string Directory { get; } = directory;

    public static string FileName(uint frame) => "frame-" + frame.ToString("D10", CultureInfo.InvariantCulture) + ".ecx";

    /// <summary>Reads every frame file; damaged headers (a cut during the first write) are deleted: they held no packets.</summary>
    public IEnumerable<(ContainerHeader Header, IReadOnlyList<LatentPacket> Packets, bool Completed)> Recover()
    {
        System.IO.Directory.CreateDirectory(Directory);
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, "frame-*.ecx").Order(StringComparer.Ordinal))
        {
            ContainerReadResult read;
            try
            {
                using var stream = File.OpenRead(path);
                read = ContainerReader.Read(stream);
            }
            catch (EdgeCodecFormatException) when (new FileInfo(path).Length <= ContainerHeader.Size)
            {
                File.Delete(path);
                continue;
            }

            yield return (read.Header, read.Packets, read.IsComplete);
        }
    }

    /// <summary>
    /// Reads back the first <paramref name="count"/> packets of a frame being written (every append is flushed, so the
    /// file holds them); used for the progress snapshots of frames whose packets were released from memory.
    /// </summary>
    /// <exception cref="InvalidDataException">The file holds fewer packets than the receiver stored.</exception>
    public IReadOnlyList<LatentPacket> Read(uint frame, int count)
    {
        string path = Path.Combine(Directory, FileName(frame));
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var packets = ContainerReader.Read(stream).Packets;
        if (packets.Count < count)
        {
            throw new InvalidDataException($"Store file of frame {frame} holds {packets.Count} packets, {count} were stored.");
        }

        return packets.Count == count ? packets : packets.Take(count).ToArray();
    }

    public void Append(uint frame, ContainerHeader header, LatentPacket packet)
    {
        var writer = Writer(frame, header);
        writer.Append(packet);
    }

    public void Complete(uint frame, ContainerHeader header)
    {
        var writer = Writer(frame, header);
        writer.Complete();
        Close(frame);
    }

    public void Dispose()
    {
        foreach (var (_, writer) in _open)
        {
            writer.Dispose();
        }

        _open.Clear();
    }

    private void Close(uint frame)
    {
        for (var node = _open.First; node is not null; node = node.Next)
        {
            if (node.Value.Frame == frame)
            {
                node.Value.Writer.Dispose();
                _open.Remove(node);
                return;
            }
        }
    }

    private ContainerWriter Writer(uint frame, ContainerHeader header)
    {
        for (var node = _open.First; node is not null; node = node.Next)
        {
            if (node.Value.Frame == frame)
            {
                _open.Remove(node);
                _open.AddFirst(node);
                return node.Value.Writer;
            }
        }

        if (_open.Count >= maxOpenFiles)
        {
            _open.Last!.Value.Writer.Dispose();
            _open.RemoveLast();
        }

        string path = Path.Combine(Directory, FileName(frame));
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var writer = stream.Length > ContainerHeader.Size
                ? ContainerWriter.OpenForAppend(stream)
                : NewWriter(stream, header);
            _open.AddFirst((frame, writer));
            return writer;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static ContainerWriter NewWriter(FileStream stream, ContainerHeader header)
    {
        // A header-only file (or a cut header) holds no packets: start it over.
        stream.SetLength(0);
        return new ContainerWriter(stream, header);
    }
}
