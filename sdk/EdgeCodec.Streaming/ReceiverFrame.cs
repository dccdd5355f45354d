using EdgeCodec.Format;

namespace EdgeCodec.Streaming;

internal sealed class ReceiverFrame(uint index, ContainerHeader header)
{
    public uint Index { get; } = index;

    public ContainerHeader Header { get; } = header;

    public int Total => Header.TileCount * Header.LayerCount;

    /// <summary>Packets applied, in prefix order; position i = layer * tiles + tile.</summary>
    public List<LatentPacket> Applied { get; } = [];

    /// <summary>Packets ahead of <see cref="Applied"/>, by prefix position, waiting for the gap to fill.</summary>
    public Dictionary<int, LatentPacket> Waiting { get; } = [];

    public int ReportedLayers { get; set; }

    public static int Position(LatentPacket p, ContainerHeader h) => (p.Layer * h.TileCount) + p.TileIndex;

    public static bool SameGeometry(ContainerHeader a, ContainerHeader b) =>
        a.ModelId == b.ModelId && a.Width == b.Width && a.Height == b.Height && a.TileWidth == b.TileWidth
        && a.TileHeight == b.TileHeight && a.LayerCount == b.LayerCount && a.QualityLevel == b.QualityLevel;
}

/// <summary>An adapter package being received in chunks; kept across reconnects so a transfer resumes.</summary>
internal sealed class PartialAdapter(byte[] buffer, long started)
{
    public byte[] Buffer { get; } = buffer;

    public long Started { get; } = started;

    public int Have { get; set; }
}
