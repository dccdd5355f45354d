namespace EdgeCodec.Streaming.Protocol;

/// <summary>Unsigned LEB128, minimal, at most 5 bytes and <see cref="int.MaxValue"/>: the same rules as packet framing.</summary>
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

    /// <summary>Reads a length prefix.</summary>
    /// <returns>1 = value read, 0 = more bytes needed, -1 = malformed (non-minimal, over 5 bytes or over 2^31-1).</returns>
    public static int TryRead(ReadOnlySpan<byte> source, out int value, out int length)
    {
        uint result = 0;
        value = 0;
        length = 0;
        for (int i = 0; i < MaxLength; i++)
        {
            if (i >= source.Length)
            {
                return 0;
            }

            byte b = source[i];
            if ((i == MaxLength - 1 && b > 0x07) || (i > 0 && b == 0))
            {
                return -1;
            }

            result |= (uint)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                value = (int)result;
                length = i + 1;
                return 1;
            }
        }

        return -1;
    }
}
