using System.Buffers.Binary;
using System.IO.Hashing;

namespace EdgeCodec.Format;

/// <summary>Byte layout of the indexed container's packet-stream terminator, index and footer (see docs/format.md).</summary>
internal static class IndexedTail
{
    /// <summary>A zero frame length ends the packet stream; packets never have an empty body.</summary>
    public const byte Terminator = 0;

    public const int IndexEntrySize = 20;
    public const int IndexCountSize = 4;
    public const int FooterSize = 24;

    public static ReadOnlySpan<byte> EndMagic => "ECXE"u8;

    public static byte[] BuildTail(IReadOnlyList<ContainerIndexEntry> entries, long terminatorOffset)
    {
        int indexLength = IndexCountSize + (entries.Count * IndexEntrySize);
        var tail = new byte[1 + indexLength + FooterSize];
        tail[0] = Terminator;
        Span<byte> index = tail.AsSpan(1, indexLength);
        BinaryPrimitives.WriteUInt32LittleEndian(index, (uint)entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            Span<byte> e = index.Slice(IndexCountSize + (i * IndexEntrySize), IndexEntrySize);
            ContainerIndexEntry entry = entries[i];
            BinaryPrimitives.WriteUInt32LittleEndian(e, entry.FrameIndex);
            BinaryPrimitives.WriteUInt16LittleEndian(e[4..], entry.TileIndex);
            e[6] = entry.Layer;
            e[7] = 0;
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], (ulong)entry.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)entry.Length);
        }

        Span<byte> footer = tail.AsSpan(1 + indexLength);
        BinaryPrimitives.WriteUInt64LittleEndian(footer, (ulong)(terminatorOffset + 1));
        BinaryPrimitives.WriteUInt32LittleEndian(footer[8..], (uint)indexLength);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[12..], Crc32.HashToUInt32(index));
        BinaryPrimitives.WriteUInt32LittleEndian(footer[16..], Crc32.HashToUInt32(footer[..16]));
        EndMagic.CopyTo(footer[20..]);
        return tail;
    }

    /// <summary>Reads the index through an intact footer; null when the footer or index is damaged or absent.</summary>
    public static ContainerIndexEntry[]? TryReadIndex(ReadOnlySpan<byte> file, int maxPackets)
    {
        if (file.Length < ContainerHeader.Size + 1 + IndexCountSize + FooterSize)
        {
            return null;
        }

        ReadOnlySpan<byte> footer = file[^FooterSize..];
        if (!footer[20..].SequenceEqual(EndMagic) || BinaryPrimitives.ReadUInt32LittleEndian(footer[16..]) != Crc32.HashToUInt32(footer[..16]))
        {
            return null;
        }

        ulong indexOffset = BinaryPrimitives.ReadUInt64LittleEndian(footer);
        uint indexLength = BinaryPrimitives.ReadUInt32LittleEndian(footer[8..]);
        long footerStart = file.Length - FooterSize;
        if (indexOffset < ContainerHeader.Size + 1 || indexOffset + indexLength != (ulong)footerStart || file[(int)indexOffset - 1] != Terminator)
        {
            return null;
        }

        ReadOnlySpan<byte> index = file.Slice((int)indexOffset, (int)indexLength);
        if (index.Length < IndexCountSize || BinaryPrimitives.ReadUInt32LittleEndian(footer[12..]) != Crc32.HashToUInt32(index))
        {
            return null;
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(index);
        if (count > (uint)maxPackets || (ulong)IndexCountSize + ((ulong)count * IndexEntrySize) != indexLength)
        {
            return null;
        }

        var entries = new ContainerIndexEntry[count];
        for (int i = 0; i < entries.Length; i++)
        {
            ReadOnlySpan<byte> e = index.Slice(IndexCountSize + (i * IndexEntrySize), IndexEntrySize);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);
            if (offset > (ulong)file.Length || length > (uint)file.Length)
            {
                return null;
            }

            entries[i] = new ContainerIndexEntry(BinaryPrimitives.ReadUInt32LittleEndian(e), BinaryPrimitives.ReadUInt16LittleEndian(e[4..]), e[6], (long)offset, (int)length);
        }

        return entries;
    }
}
