namespace EdgeCodec.Format;

/// <summary>
/// What a packet must satisfy to belong in a container: the header's model and grid, and prefix order
/// (frame, then layer, then tile, strictly increasing) so that any prefix of the file is a progressive prefix.
/// </summary>
internal static class ContainerRules
{
    public static ulong OrderKey(uint frame, byte layer, ushort tile) => ((ulong)frame << 24) | ((ulong)layer << 16) | tile;

    public static string? FindProblem(ContainerHeader header, LatentPacket packet, ulong? previousKey)
    {
        if (packet.ModelId != header.ModelId)
        {
            return $"Packet model id {packet.ModelId:x16} differs from the container's {header.ModelId:x16}.";
        }

        if (header.FrameCount != 0 && packet.FrameIndex >= header.FrameCount)
        {
            return $"Packet frame {packet.FrameIndex} is outside the container's {header.FrameCount} frames.";
        }

        if (packet.TileIndex >= header.TileCount)
        {
            return $"Packet tile {packet.TileIndex} is outside the container's {header.TileCount} tiles.";
        }

        if (packet.Layer >= header.LayerCount)
        {
            return $"Packet layer {packet.Layer} is outside the container's {header.LayerCount} layers.";
        }

        ulong key = OrderKey(packet.FrameIndex, packet.Layer, packet.TileIndex);
        if (previousKey is ulong previous && key <= previous)
        {
            return $"Packet (frame {packet.FrameIndex}, layer {packet.Layer}, tile {packet.TileIndex}) breaks prefix order: "
                + "packets must be sorted by frame, then layer, then tile, without duplicates.";
        }

        return null;
    }
}
