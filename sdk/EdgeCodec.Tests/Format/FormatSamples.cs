using System.Buffers;
using EdgeCodec.Format;

namespace EdgeCodec.Tests.Format;

/// <summary>Deterministic packets and containers shared by the format tests and the golden vectors.</summary>
internal static class FormatSamples
{
    public const ulong ModelId = 0x0123456789ABCDEF;

    public static LatentPacket Packet(uint frame, ushort tile, byte layer, int payloadLength, int seed = 0) => new()
    {
        StreamId = 7,
        Sequence = (ulong)((frame * 100) + (layer * 10) + tile),
        FrameIndex = frame,
        TileIndex = tile,
        Layer = layer,
        ExpertId = (ushort)(tile % 3),
        ModelId = ModelId,
        Payload = Bytes(payloadLength, seed + (int)frame + tile + layer),
    };

    public static LatentPacket Extremes(bool max) => new()
    {
        StreamId = max ? uint.MaxValue : 0,
        Sequence = max ? ulong.MaxValue : 0,
        FrameIndex = max ? uint.MaxValue : 0,
        TileIndex = max ? ushort.MaxValue : (ushort)0,
        Layer = max ? byte.MaxValue : (byte)0,
        ExpertId = max ? ushort.MaxValue : (ushort)0,
        ModelId = max ? ulong.MaxValue : 0,
        Payload = max ? Bytes(70_000, 1) : ReadOnlyMemory<byte>.Empty,
    };

    public static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static ContainerHeader Header(uint frames = 2, bool preview = false) =>
        ContainerHeader.Create(ModelId, width: 100, height: 60, tileWidth: 64, tileHeight: 64, layerCount: 2, frameCount: frames, qualityLevel: 3, previewLayer: preview);

    /// <summary>2 frames x 2 layers x 2 tiles, in prefix order.</summary>
    public static IEnumerable<LatentPacket> ContainerPackets()
    {
        for (uint f = 0; f < 2; f++)
        {
            for (byte l = 0; l < 2; l++)
            {
                for (ushort t = 0; t < 2; t++)
                {
                    yield return Packet(f, t, l, payloadLength: 5 + (int)(f * 7) + (l * 3) + t);
                }
            }
        }
    }

    public static byte[] Container(bool complete = true, bool preview = false)
    {
        using var stream = new MemoryStream();
        using (var writer = new ContainerWriter(stream, Header(preview: preview), leaveOpen: true))
        {
            foreach (LatentPacket p in ContainerPackets())
            {
                writer.Append(p);
            }

            if (complete)
            {
                writer.Complete();
            }
        }

        return stream.ToArray();
    }

    /// <summary>Frame 0 of <see cref="ContainerPackets"/> in the compact layout, under a one-frame header.</summary>
    public static byte[] CompactContainer(bool preview = false)
    {
        using var stream = new MemoryStream();
        ContainerWriter.Write(Header(frames: 1, preview), ContainerPackets().Where(p => p.FrameIndex == 0).ToArray(), stream, ContainerLayout.Compact);
        return stream.ToArray();
    }

    /// <summary>Splits data into a sequence of segments of the given size.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment first = new(data.AsMemory(0, Math.Min(segmentSize, data.Length)), 0);
        Segment last = first;
        for (int i = segmentSize; i < data.Length; i += segmentSize)
        {
            last = last.Append(data.AsMemory(i, Math.Min(segmentSize, data.Length - i)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Checks every field; with <paramref name="transport"/> false, not the stream id and sequence (which the compact layout does not keep).</summary>
    public static void AssertSame(LatentPacket expected, LatentPacket actual, bool transport = true)
    {
        Assert.Equal(expected.Version, actual.Version);
        if (transport)
        {
            Assert.Equal(expected.StreamId, actual.StreamId);
            Assert.Equal(expected.Sequence, actual.Sequence);
        }

        Assert.Equal(expected.FrameIndex, actual.FrameIndex);
        Assert.Equal(expected.TileIndex, actual.TileIndex);
        Assert.Equal(expected.Layer, actual.Layer);
        Assert.Equal(expected.ExpertId, actual.ExpertId);
        Assert.Equal(expected.ModelId, actual.ModelId);
        Assert.True(expected.Payload.Span.SequenceEqual(actual.Payload.Span));
        Assert.NotNull(actual.Crc32);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
