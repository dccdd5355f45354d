namespace EdgeCodec.Format;

/// <summary>Where one packet sits in a container file.</summary>
/// <param name="FrameIndex">The packet's frame.</param>
/// <param name="TileIndex">The packet's tile.</param>
/// <param name="Layer">The packet's refinement layer.</param>
/// <param name="Offset">Byte offset of the frame (its length prefix) from the start of the file.</param>
/// <param name="Length">Length of the frame in bytes, length prefix included.</param>
public readonly record struct ContainerIndexEntry(uint FrameIndex, ushort TileIndex, byte Layer, long Offset, int Length);
