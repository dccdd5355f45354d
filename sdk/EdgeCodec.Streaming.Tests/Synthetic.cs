using EdgeCodec.Format;

namespace EdgeCodec.Streaming.Tests;

/// <summary>Frames of random payloads: the transport's guarantees are about bytes, so most tests need no codec.</summary>
public static class Synthetic
{
    public const ulong ModelId = 0x0123456789abcdefUL;
    public const uint StreamId = 7;

    public sealed record Frame(ContainerHeader Header, IReadOnlyList<LatentPacket> Packets);

    public static List<Frame> Frames(Random rng, int frames, int tilesX, int tilesY, int layers, int minPayload, int maxPayload, ulong firstSequence = 0, uint firstFrame = 0)
    {
        var header = ContainerHeader.Create(ModelId, tilesX * 64, tilesY * 64, 64, 64, (byte)layers, 1, 0);
        var list = new List<Frame>();
        ulong sequence = firstSequence;
        for (uint f = 0; f < frames; f++)
        {
            var packets = new List<LatentPacket>();
            for (int layer = 0; layer < layers; layer++)
            {
                for (int tile = 0; tile < header.TileCount; tile++)
                {
                    byte[] payload = new byte[rng.Next(minPayload, maxPayload + 1)];
                    rng.NextBytes(payload);
                    packets.Add(new LatentPacket
                    {
                        StreamId = StreamId, Sequence = sequence++, FrameIndex = firstFrame + f, TileIndex = (ushort)tile,
                        Layer = (byte)layer, ExpertId = (ushort)rng.Next(0, 3), ModelId = ModelId, Payload = payload,
                    });
                }
            }

            list.Add(new Frame(header, packets));
        }

        return list;
    }

    public static void AssertSame(LatentPacket expected, LatentPacket actual)
    {
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.StreamId, actual.StreamId);
        Assert.Equal(expected.FrameIndex, actual.FrameIndex);
        Assert.Equal(expected.TileIndex, actual.TileIndex);
        Assert.Equal(expected.Layer, actual.Layer);
        Assert.Equal(expected.ExpertId, actual.ExpertId);
        Assert.Equal(expected.ModelId, actual.ModelId);
        Assert.True(expected.Payload.Span.SequenceEqual(actual.Payload.Span), $"payload of sequence {expected.Sequence} differs");
    }

    /// <summary>Reads every frame file of a store and checks it holds exactly the sender's packets, complete.</summary>
    public static void AssertStoreHolds(string directory, IReadOnlyList<Frame> frames)
    {
        foreach (var frame in frames)
        {
            uint index = frame.Packets[0].FrameIndex;
            string path = Path.Combine(directory, $"frame-{index:D10}.ecx");
            using var stream = File.OpenRead(path);
            var read = ContainerReader.Read(stream);
            Assert.True(read.IsComplete, $"frame {index}: {read.Status}");
            Assert.Equal(frame.Packets.Count, read.Packets.Count);
            for (int i = 0; i < frame.Packets.Count; i++)
            {
                AssertSame(frame.Packets[i], read.Packets[i]);
            }
        }
    }

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "edgecodec-streaming-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
