using EdgeCodec.Format;

namespace EdgeCodec.Codec;

/// <summary>The result of encoding one image: a container header and its packets in prefix order.</summary>
public sealed class EncodedImage
{
    internal EncodedImage(ContainerHeader header, IReadOnlyList<LatentPacket> packets)
    {
        Header = header;
        Packets = packets;
    }

    /// <summary>Geometry, model id, quality level and layer count of the stream.</summary>
    public ContainerHeader Header { get; }

    /// <summary>Latent packets: layer 0 of every tile, then layer 1 of every tile, and so on.</summary>
    public IReadOnlyList<LatentPacket> Packets { get; }

    /// <summary>Per tile, the expert the encoder chose (0 = base synthesis).</summary>
    public IReadOnlyList<ushort> ExpertsPerTile { get; init; } = [];

    /// <summary>Sum of the packets' payload bytes (entropy-coded data only).</summary>
    public long PayloadBytes => Packets.Sum(p => (long)p.Payload.Length);

    /// <summary>Writes a complete <c>.ecx</c> container to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    /// <param name="layout">
    /// <see cref="ContainerLayout.Compact"/> (the default: the smallest file, about 210 bytes less than indexed for a
    /// four-layer single-tile picture) or <see cref="ContainerLayout.Indexed"/> (the appendable layout of recordings).
    /// </param>
    /// <returns>Bytes written.</returns>
    public long WriteContainer(Stream stream, ContainerLayout layout = ContainerLayout.Compact)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ContainerWriter.Write(Header, Packets, stream, layout);
    }

    /// <summary>The complete container as a byte array.</summary>
    /// <param name="layout">The file layout (see <see cref="WriteContainer"/>).</param>
    /// <returns>The container's bytes.</returns>
    public byte[] ToContainerBytes(ContainerLayout layout = ContainerLayout.Compact)
    {
        using var ms = new MemoryStream();
        WriteContainer(ms, layout);
        return ms.ToArray();
    }
}
