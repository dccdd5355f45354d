using System.Buffers;
using EdgeCodec.Format;

namespace EdgeCodec.Fuzz;

/// <summary>Valid inputs per target, generated in-process (and written by <c>seeds &lt;dir&gt;</c> for AFL/libFuzzer corpora).</summary>
internal static class Seeds
{
    public static List<byte[]> For(string target) => target switch
    {
        "packet" => PacketSeeds(),
        "container" => [Container(complete: true), Container(complete: false)],
        "rans" => [FuzzTargets.RansInput([0, 1, -1, 2, 0, 0, 3, -2, 5, 0, 1], 0), FuzzTargets.RansInput([int.MinValue, 0, int.MaxValue, 100, -100], 3), FuzzTargets.RansInput([], 0)],
        _ => throw new ArgumentException($"Unknown target '{target}'."),
    };

    private static List<byte[]> PacketSeeds()
    {
        var two = new ArrayBufferWriter<byte>();
        PacketFraming.Write(two, Packet(0, 0, 0, 8));
        PacketFraming.Write(two, Packet(1, 2, 1, 20));
        return [[0, .. PacketFraming.ToArray(Packet(0, 0, 0, 4))], [3, .. two.WrittenSpan]];
    }

    private static LatentPacket Packet(uint frame, ushort tile, byte layer, int payload) => new()
    {
        StreamId = 1,
        Sequence = frame,
        FrameIndex = frame,
        TileIndex = tile,
        Layer = layer,
        ModelId = 42,
        Payload = Enumerable.Range(0, payload).Select(i => (byte)(i * 37)).ToArray(),
    };

    private static byte[] Container(bool complete)
    {
        using var stream = new MemoryStream();
        using (var writer = new ContainerWriter(stream, ContainerHeader.Create(42, 64, 32, 32, 32, layerCount: 2, frameCount: 1), leaveOpen: true))
        {
            writer.Append(Packet(0, 0, 0, 6));
            writer.Append(Packet(0, 1, 0, 5));
            writer.Append(Packet(0, 0, 1, 9));
            if (complete)
            {
                writer.Complete();
            }
        }

        return stream.ToArray();
    }
}
