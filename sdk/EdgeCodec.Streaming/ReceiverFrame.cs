using EdgeCodec.Format;

namespace EdgeCodec.Streaming;

internal sealed class ReceiverFrame(uint index, ContainerHeader header)
{
    public uint Index { get; } = index;

    public ContainerHeader Header { get; } = header;

    public int Total => Header.TileCount * Header.LayerCount;

    /// <summary>Packets applied (stored, acknowledged); the next one in prefix order has this position.</summary>
    public int AppliedCount { get; private set; }

    /// <summary>
    /// The applied packets in prefix order (position i = layer * tiles + tile) while they are held in memory; null once
    /// released under the receiver's memory budget (they are in the frame's store file).
    /// </summary>
    public List<LatentPacket>? Applied { get; private set; } = [];

    /// <summary>Memory cost of <see cref="Applied"/>, as counted by <see cref="Cost"/>.</summary>
    public long AppliedBytes { get; private set; }

    /// <summary>Packets ahead of the applied prefix, by prefix position, waiting for the gap to fill.</summary>
    public Dictionary<int, LatentPacket> Waiting { get; } = [];

    public int ReportedLayers { get; set; }

    /// <summary>The highest sequence applied to this frame.</summary>
    public ulong MaxSequence { get; private set; }

    /// <summary>What a held packet costs against the memory budget: its payload plus the object around it.</summary>
    public static long Cost(LatentPacket p) => p.Payload.Length + 96;

    /// <summary>Appends the next packet in prefix order; returns the bytes it added to memory (0 once released).</summary>
    public long Apply(LatentPacket p)
    {
        AppliedCount++;
        MaxSequence = Math.Max(MaxSequence, p.Sequence);
        if (Applied is null)
        {
            return 0;
        }

        Applied.Add(p);
        long cost = Cost(p);
        AppliedBytes += cost;
        return cost;
    }

    /// <summary>Drops the in-memory copy of the applied packets; returns the bytes freed.</summary>
    public long Release()
    {
        long freed = AppliedBytes;
        Applied = null;
        AppliedBytes = 0;
        return freed;
    }

    public static int Position(LatentPacket p, ContainerHeader h) => (p.Layer * h.TileCount) + p.TileIndex;

    public static bool SameGeometry(ContainerHeader a, ContainerHeader b) =>
        a.ModelId == b.ModelId && a.Width == b.Width && a.Height == b.Height && a.TileWidth == b.TileWidth
        && a.TileHeight == b.TileHeight && a.LayerCount == b.LayerCount && a.QualityLevel == b.QualityLevel
        && a.PreviewLayer == b.PreviewLayer;
}

/// <summary>An adapter package being received in chunks; kept across reconnects so a transfer resumes.</summary>
internal sealed class PartialAdapter(byte[] buffer, long started)
{
    public byte[] Buffer { get; } = buffer;

    public long Started { get; } = started;

    public int Have { get; set; }
}
