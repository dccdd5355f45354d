using System.Buffers;

namespace EdgeCodec.Format;

/// <summary>
/// Unsigned LEB128 integers limited to 5 bytes and <see cref="int.MaxValue"/>, the only variable-length integer
/// used by EdgeCodec framing. Encodings must be minimal so every value has exactly one byte form.
/// </summary>
internal static class Varint
{
    public const int MaxLength = 5;

    public static int Length(uint value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    public static int Write(Span<byte> destination, uint value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public static void Write(IBufferWriter<byte> output, uint value)
    {
        Span<byte> span = output.GetSpan(MaxLength);
        output.Advance(Write(span, value));
    }

    /// <summary>Reads a varint from a span.</summary>
    /// <returns><see cref="FormatError.None"/>, <see cref="FormatError.Truncated"/> or <see cref="FormatError.Malformed"/>.</returns>
    public static FormatError TryRead(ReadOnlySpan<byte> source, out int value, out int length)
    {
        uint result = 0;
        value = 0;
        length = 0;
        for (int i = 0; i < MaxLength; i++)
        {
            if (i >= source.Length)
            {
                return FormatError.Truncated;
            }

            byte b = source[i];
            FormatError step = Accumulate(ref result, b, i);
            if (step != FormatError.None)
            {
                return step;
            }

            if ((b & 0x80) == 0)
            {
                value = (int)result;
                length = i + 1;
                return FormatError.None;
            }
        }

        return FormatError.Malformed;
    }

    /// <summary>Reads a varint from the start of a (possibly multi-segment) sequence.</summary>
    public static FormatError TryRead(in ReadOnlySequence<byte> source, out int value, out int length)
    {
        if (source.FirstSpan.Length >= MaxLength || source.IsSingleSegment)
        {
            return TryRead(source.FirstSpan, out value, out length);
        }

        Span<byte> head = stackalloc byte[MaxLength];
        int available = (int)Math.Min(MaxLength, source.Length);
        source.Slice(0, available).CopyTo(head);
        return TryRead(head[..available], out value, out length);
    }

    private static FormatError Accumulate(ref uint result, byte b, int index)
    {
        if (index == MaxLength - 1 && b > 0x07)
        {
            // The 5th byte may only carry bits 28..30: the value must fit in a non-negative int32.
            // A well-formed but larger value (up to 2^35) is a size over any limit, not garbage.
            return (b & 0x80) != 0 ? FormatError.Malformed : FormatError.LimitExceeded;
        }

        if (index > 0 && b == 0)
        {
            // A trailing zero group means a longer-than-necessary encoding.
            return FormatError.Malformed;
        }

        result |= (uint)(b & 0x7F) << (7 * index);
        return FormatError.None;
    }
}
