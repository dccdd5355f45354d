using System.Buffers;

namespace EdgeCodec.Streaming.Protocol;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> of a small prefix followed by existing segments, without copying them.</summary>
internal sealed class PrefixedSequence : ReadOnlySequenceSegment<byte>
{
    private PrefixedSequence(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Create(ReadOnlyMemory<byte> prefix, ReadOnlySequence<byte> rest)
    {
        var first = new PrefixedSequence(prefix, 0);
        var last = first;
        foreach (var memory in rest)
        {
            if (!memory.IsEmpty)
            {
                var next = new PrefixedSequence(memory, last.RunningIndex + last.Memory.Length);
                last.Next = next;
                last = next;
            }
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
