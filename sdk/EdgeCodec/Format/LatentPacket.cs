namespace EdgeCodec.Format;

/// <summary>
/// One independently decodable unit of coded latents: one refinement layer of one tile of one frame.
/// Serialized as a MessagePack array by <see cref="PacketFraming"/>; the wire layout is specified in <c>docs/format.md</c>.
/// </summary>
/// <remarks>Immutable. The payload memory is owned by the packet: do not mutate it after construction.</remarks>
public sealed class LatentPacket
{
    /// <summary>The packet format version this implementation writes and reads.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>Packet format version; must be <see cref="CurrentVersion"/>.</summary>
    public byte Version { get; init; } = CurrentVersion;

    /// <summary>Identifies the sender's stream, so packets of concurrent streams can share a transport.</summary>
    public uint StreamId { get; init; }

    /// <summary>Transport sequence number, increasing per packet within a stream; lets receivers detect loss.</summary>
    public ulong Sequence { get; init; }

    /// <summary>Frame index within the stream (0 for a still image).</summary>
    public uint FrameIndex { get; init; }

    /// <summary>Tile index within the frame, row-major.</summary>
    public ushort TileIndex { get; init; }

    /// <summary>Refinement group: 0 = base layer (hyper-latent and the first channel group), 1.. = refinements.</summary>
    public byte Layer { get; init; }

    /// <summary>Synthesis expert (domain adapter) chosen for this tile; 0 = base synthesis, no adapter.</summary>
    public ushort ExpertId { get; init; }

    /// <summary>The first 8 bytes, big-endian, of the SHA-256 of the model pack that produced the payload.</summary>
    public ulong ModelId { get; init; }

    /// <summary>The entropy-coded latents.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>
    /// The CRC32 that protected this packet on the wire (already verified), or <see langword="null"/> for a packet
    /// built in memory; writers always compute a fresh CRC.
    /// </summary>
    public uint? Crc32 { get; init; }
}
