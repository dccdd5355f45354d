using System.Buffers.Binary;
using System.IO.Hashing;

namespace EdgeCodec.Streaming;

/// <summary>
/// The store's persisted acknowledgement watermark (<c>store-state.bin</c>): the stream it belongs to and a sequence
/// below which every packet is held or was given up for the quota. Frames rewritten or deleted for
/// <see cref="StreamReceiverOptions.StoreQuotaBytes"/> no longer carry their sequence numbers in the store, so a
/// restarted receiver takes them from here. Written whole to a temporary file and renamed over the old one (synced to
/// the device first with <see cref="StoreDurability.PowerLoss"/>), so a kill leaves the old state or the new one.
/// </summary>
/// <remarks>Layout, little-endian: magic <c>ECSS</c>, version 1 (1 byte), stream id (4), watermark (8), CRC-32 of the 17 bytes before it (4).</remarks>
internal readonly record struct StoreState(uint StreamId, ulong Watermark)
{
    public const string FileName = "store-state.bin";
    private const int Size = 4 + 1 + 4 + 8 + 4;

    private static ReadOnlySpan<byte> Magic => "ECSS"u8;

    /// <summary>Reads the state in <paramref name="directory"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file exists but is damaged or of another version.</exception>
    public static StoreState? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        // Sized before it is read: a file of another size is damaged, whatever it holds.
        byte[] bytes = new FileInfo(path).Length == Size ? File.ReadAllBytes(path) : [];
        if (bytes.Length != Size || !bytes.AsSpan(0, 4).SequenceEqual(Magic) || bytes[4] != 1
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(Size - 4)) != Crc32.HashToUInt32(bytes.AsSpan(0, Size - 4)))
        {
            throw new InvalidDataException($"The store state {path} is damaged; the frames it covers would be requested again. Remove it to accept that.");
        }

        return new StoreState(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(5)), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(9)));
    }

    /// <summary>Replaces the state file atomically; with <paramref name="sync"/> the new file and the folder reach the device first.</summary>
    /// <exception cref="IOException">The write failed: the previous state is still in place.</exception>
    public void Write(string directory, bool sync)
    {
        Span<byte> bytes = stackalloc byte[Size];
        Magic.CopyTo(bytes);
        bytes[4] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[5..], StreamId);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[9..], Watermark);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[(Size - 4)..], Crc32.HashToUInt32(bytes[..(Size - 4)]));
        string path = Path.Combine(directory, FileName), temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(bytes);
            if (sync)
            {
                RandomAccess.FlushToDisk(stream.SafeFileHandle);
            }
        }

        File.Move(temp, path, overwrite: true);
        if (sync)
        {
            FolderSync.Flush(directory);
        }
    }
}
