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

    /// <summary>Writes a complete <c>.ecx</c> container (header, packets, index) to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    /// <returns>Bytes written.</returns>
    public long WriteContainer(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.CanSeek ? stream.Position : 0;
        using (var writer = new ContainerWriter(stream, Header, leaveOpen: true))
        {
            foreach (var packet in Packets)
            {
                writer.Append(packet);
            }

            writer.Complete();
        }

        return stream.CanSeek ? stream.Position - start : -1;
    }

    /// <summary>The complete container as a byte array.</summary>
    public byte[] ToContainerBytes()
    {
        using var ms = new MemoryStream();
        WriteContainer(ms);
        return ms.ToArray();
    }
}
