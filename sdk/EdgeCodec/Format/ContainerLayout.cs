namespace EdgeCodec.Format;

/// <summary>How a container file lays out its packets (<c>docs/format.md</c>). <see cref="ContainerReader"/> reads both.</summary>
public enum ContainerLayout
{
    /// <summary>
    /// Header, framed packets of any frames, then an index and a footer: appendable packet by packet
    /// (<see cref="ContainerWriter"/>, <see cref="ContainerWriter.OpenForAppend"/>), for recordings and receiver stores.
    /// Costs a 48-byte header, ~26 bytes per packet and 45 + 20 per packet for the terminator, index and footer.
    /// </summary>
    Indexed = 0,

    /// <summary>
    /// One frame written whole: a ~30-byte header, then each packet as its length, its payload and a CRC-32, in the
    /// fixed order layer by layer, tile by tile, so no packet names its tile or layer. For stills and clips' frames
    /// stored or sent as files; about 210 bytes smaller than <see cref="Indexed"/> for a four-layer single-tile picture.
    /// </summary>
    Compact = 1,
}
