using System.Globalization;
using EdgeCodec.Format;

namespace EdgeCodec.Streaming;

/// <summary>
/// One <c>.ecx</c> container per frame, written with <see cref="ContainerWriter"/> in prefix order (indexed layout;
/// completed frames under the watermark may be rewritten compact, trimmed or deleted for a quota). The receiver
/// appends a packet only when every packet before it in prefix order is stored, so each file is always a valid
/// prefix; a kill at any byte loses at most the packet being written, which was not yet acknowledged. With
/// <see cref="StoreDurability.PowerLoss"/>, <see cref="Sync"/> (called before every acknowledgement) also writes the
/// files changed since the last sync, and the folder when a file was created, through to the storage device.
/// </summary>
internal sealed class ReceiverStore(string directory, int maxOpenFiles, StoreDurability durability, Func<string, FileStream>? openFile = null) : IDisposable
{
    /// <summary>Opens a frame file for writing: unbuffered, so a failed write (a full disk) leaves nothing queued in
    /// .NET to be written later, out of order. Tests replace it to fail on purpose.</summary>
    private readonly Func<string, FileStream> _openFile = openFile
        ?? (path => new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0));

    private readonly LinkedList<OpenFile> _open = new();

    /// <summary>Open files written since the last <see cref="Sync"/> (PowerLoss only).</summary>
    private readonly HashSet<OpenFile> _unsynced = [];

    /// <summary>A file was created or deleted since the last <see cref="Sync"/>: the folder's entries need a sync too.</summary>
    private bool _folderChanged;

    /// <summary>Bytes of every frame file, by frame.</summary>
    private readonly Dictionary<uint, long> _sizes = [];

    public string Directory { get; } = directory;

    /// <summary>Bytes of all frame files in the store.</summary>
    public long Bytes { get; private set; }

    /// <summary>Disk syncs performed: one per <see cref="Sync"/> that had anything to write, one per closed file that had
    /// unsynced appends, one per recovered file.</summary>
    public long Syncs { get; private set; }

    public static string FileName(uint frame) => "frame-" + frame.ToString("D10", CultureInfo.InvariantCulture) + ".ecx";

    /// <summary>
    /// Reads every frame file; damaged headers (a cut during the first write) are deleted: they held no packets. So are
    /// the temporary files of a rewrite or state update that a kill interrupted (the files they would have replaced
    /// are intact).
    /// </summary>
    public IEnumerable<(ContainerHeader Header, IReadOnlyList<LatentPacket> Packets, bool Completed, ContainerLayout Layout)> Recover()
    {
        System.IO.Directory.CreateDirectory(Directory);
        foreach (string temp in System.IO.Directory.EnumerateFiles(Directory, "*.tmp"))
        {
            File.Delete(temp);
            _folderChanged = true;
        }

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
                _folderChanged = true;
                continue;
            }

            if (durability == StoreDurability.PowerLoss)
            {
                // What a killed process left may still be only in the OS cache; it is acknowledged again at HELLO.
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                RandomAccess.FlushToDisk(handle);
                Syncs++;
                _folderChanged = true;
            }

            if (read.Packets.Count > 0)
            {
                Resize(read.Packets[0].FrameIndex, new FileInfo(path).Length);
            }

            yield return (read.Header, read.Packets, read.IsComplete, read.Layout);
        }
    }

    /// <summary>
    /// Rewrites a completed frame's file in the compact layout with its first <paramref name="layers"/> layers (all of
    /// them to only drop the indexed framing), through a temporary file renamed over it, so a kill leaves the old file
    /// or the new one.
    /// </summary>
    /// <exception cref="IOException">The rewrite failed; the old file is in place.</exception>
    public void Rewrite(uint frame, int layers)
    {
        string path = Path.Combine(Directory, FileName(frame)), temp = path + ".tmp";
        ContainerReadResult read;
        using (var stream = File.OpenRead(path))
        {
            read = ContainerReader.Read(stream);
        }

        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            ContainerWriter.WriteLayerPrefix(read, Math.Min(layers, read.Header.LayerCount), stream, ContainerLayout.Compact);
            if (durability == StoreDurability.PowerLoss)
            {
                RandomAccess.FlushToDisk(stream.SafeFileHandle);
                Syncs++;
            }
        }

        File.Move(temp, path, overwrite: true);
        _folderChanged = true;
        Resize(frame, new FileInfo(path).Length);
    }

    /// <summary>Deletes a completed frame's file.</summary>
    public void Delete(uint frame)
    {
        File.Delete(Path.Combine(Directory, FileName(frame)));
        _folderChanged = true;
        Bytes -= _sizes[frame];
        _sizes.Remove(frame);
    }

    private void Resize(uint frame, long bytes)
    {
        Bytes += bytes - _sizes.GetValueOrDefault(frame);
        _sizes[frame] = bytes;
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

    /// <exception cref="IOException">The write failed (e.g. the disk is full): the packet is not stored, the file keeps
    /// every packet before it, and the next append of the frame continues the file after them.</exception>
    public void Append(uint frame, ContainerHeader header, LatentPacket packet)
    {
        var file = Open(frame, header);
        try
        {
            file.Writer.Append(packet);
        }
        catch (IOException e)
        {
            throw Failed(file, "store packet " + packet.Sequence + " of", e);
        }

        Resize(frame, file.Stream.Position);
        Changed(file);
    }

    /// <exception cref="IOException">Writing the file's index failed: the file keeps its packets and is completed on a
    /// later try.</exception>
    public void Complete(uint frame, ContainerHeader header)
    {
        var file = Open(frame, header);
        try
        {
            file.Writer.Complete();
        }
        catch (IOException e)
        {
            throw Failed(file, "complete", e);
        }

        Resize(frame, file.Stream.Position);
        Changed(file);
        Close(file);
    }

    /// <summary>
    /// With <see cref="StoreDurability.PowerLoss"/>, writes every file appended to since the last call, and the folder if
    /// a file was created, through to the device; a no-op otherwise or when nothing changed.
    /// </summary>
    /// <exception cref="IOException">The device failed: nothing may be acknowledged.</exception>
    public void Sync()
    {
        if (durability != StoreDurability.PowerLoss || (_unsynced.Count == 0 && !_folderChanged))
        {
            return;
        }

        foreach (var file in _unsynced)
        {
            RandomAccess.FlushToDisk(file.Stream.SafeFileHandle);
        }

        _unsynced.Clear();
        if (_folderChanged)
        {
            FolderSync.Flush(Directory);
            _folderChanged = false;
        }

        Syncs++;
    }

    public void Dispose()
    {
        foreach (var file in _open)
        {
            file.Writer.Dispose();
        }

        _open.Clear();
        _unsynced.Clear();
    }

    /// <summary>
    /// Forgets a file whose write failed part-way: whatever reached it after its last whole packet is cut off when the
    /// frame's next append reopens it (<see cref="ContainerWriter.OpenForAppend"/>), so the file stays a valid prefix.
    /// </summary>
    private IOException Failed(OpenFile file, string what, IOException error)
    {
        _open.Remove(file);
        _unsynced.Remove(file);
        try
        {
            file.Stream.Dispose(); // unbuffered: nothing is left to write
        }
        catch (IOException)
        {
        }

        return new IOException(
            $"The store could not {what} frame {file.Frame} ({error.Message}). Nothing acknowledged was lost; the file is "
            + "continued from its last whole packet on the next try.", error);
    }

    private void Changed(OpenFile file)
    {
        if (durability == StoreDurability.PowerLoss)
        {
            _unsynced.Add(file);
        }
    }

    private void Close(OpenFile file)
    {
        if (_unsynced.Remove(file))
        {
            // Its appends are not acknowledged yet, but the handle is going: sync them now rather than lose track.
            RandomAccess.FlushToDisk(file.Stream.SafeFileHandle);
            Syncs++;
        }

        file.Writer.Dispose();
        _open.Remove(file);
    }

    private OpenFile Open(uint frame, ContainerHeader header)
    {
        for (var node = _open.First; node is not null; node = node.Next)
        {
            if (node.Value.Frame == frame)
            {
                _open.Remove(node);
                _open.AddFirst(node);
                return node.Value;
            }
        }

        if (_open.Count >= maxOpenFiles)
        {
            Close(_open.Last!.Value);
        }

        string path = Path.Combine(Directory, FileName(frame));
        bool created = !File.Exists(path);
        var stream = _openFile(path);
        try
        {
            var writer = stream.Length > ContainerHeader.Size
                ? ContainerWriter.OpenForAppend(stream)
                : NewWriter(stream, header);
            var file = new OpenFile(frame, writer, stream);
            _open.AddFirst(file);
            _folderChanged |= created;
            Changed(file);
            return file;
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

    /// <summary>An open frame file: its writer and the stream under it (whose handle a sync needs).</summary>
    private sealed record OpenFile(uint Frame, ContainerWriter Writer, FileStream Stream);
}
