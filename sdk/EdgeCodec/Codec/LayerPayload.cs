using EdgeCodec.Entropy;

namespace EdgeCodec.Codec;

/// <summary>
/// Payload layout of the latent packets of one tile (docs/format.md, "Latent payloads"):
/// layer 0 = <c>varint(len(zStream)) ‖ zStream ‖ group0Stream</c>, layer k ≥ 1 = <c>groupKStream</c>.
/// Each stream is one <see cref="RansCodec"/> stream; symbol counts follow from the tile geometry.
/// </summary>
internal static class LayerPayload
{
    public static byte[] EncodeBase(byte[] zStream, byte[] group0Stream)
    {
        var output = new byte[VarintLength((uint)zStream.Length) + zStream.Length + group0Stream.Length];
        int pos = WriteVarint(output, (uint)zStream.Length);
        zStream.CopyTo(output, pos);
        group0Stream.CopyTo(output, pos + zStream.Length);
        return output;
    }

    /// <summary>Splits a layer-0 payload into its z and group-0 streams.</summary>
    /// <exception cref="EdgeCodecFormatException">The length prefix is malformed or exceeds the payload.</exception>
    public static (ReadOnlyMemory<byte> Z, ReadOnlyMemory<byte> Group0) SplitBase(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        uint length = 0;
        int shift = 0, pos = 0;
        while (true)
        {
            if (pos >= span.Length || pos >= 5)
            {
                throw new EdgeCodecFormatException("Base-layer payload: malformed z-stream length.", Format.FormatError.Malformed, pos);
            }

            byte b = span[pos++];
            length |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }

            shift += 7;
        }

        if (length > (uint)(span.Length - pos))
        {
            throw new EdgeCodecFormatException($"Base-layer payload: z stream of {length} bytes exceeds the {span.Length - pos} bytes present.", Format.FormatError.Truncated, pos);
        }

        return (payload.Slice(pos, (int)length), payload[(pos + (int)length)..]);
    }

    private static int VarintLength(uint v)
    {
        int n = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            n++;
        }

        return n;
    }

    private static int WriteVarint(Span<byte> output, uint v)
    {
        int pos = 0;
        while (v >= 0x80)
        {
            output[pos++] = (byte)(v | 0x80);
            v >>= 7;
        }

        output[pos++] = (byte)v;
        return pos;
    }
}
