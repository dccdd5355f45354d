using EdgeCodec.Entropy;
using EdgeCodec.Format;

namespace EdgeCodec.Codec;

/// <summary>
/// Payload layout of the latent packets of one tile (docs/format.md, "Latent payloads"):
/// layer 0 = <c>varint(len(zStream)) ‖ zStream ‖ group0Stream</c>, layer k ≥ 1 = <c>groupKStream</c>.
/// Each stream is one <see cref="RansCodec"/> stream; symbol counts follow from the tile geometry.
/// </summary>
internal static class LayerPayload
{
    /// <summary>
    /// One tile's payloads in layer order: <c>[base, group 1, …]</c>, or with a <paramref name="previewLayer"/>
    /// <c>[z, group 0, group 1, …]</c>; then the residual layer, if any. The one place the encoder decides the layout.
    /// </summary>
    public static byte[][] Layers(TileStreams tile, bool previewLayer)
    {
        byte[][] groups = tile.Groups;
        byte[][] head = previewLayer ? [tile.Z, .. groups] : [EncodeBase(tile.Z, groups[0]), .. groups[1..]];
        return tile.Residual is { } residual ? [.. head, residual] : head;
    }

    public static byte[] EncodeBase(ReadOnlySpan<byte> zStream, ReadOnlySpan<byte> group0Stream)
    {
        var output = new byte[Varint.Length((uint)zStream.Length) + zStream.Length + group0Stream.Length];
        int pos = Varint.Write(output, (uint)zStream.Length);
        zStream.CopyTo(output.AsSpan(pos));
        group0Stream.CopyTo(output.AsSpan(pos + zStream.Length));
        return output;
    }

    /// <summary>Splits a layer-0 payload into its z and group-0 streams.</summary>
    /// <exception cref="EdgeCodecFormatException">The length prefix is malformed or exceeds the payload.</exception>
    public static (ReadOnlyMemory<byte> Z, ReadOnlyMemory<byte> Group0) SplitBase(ReadOnlyMemory<byte> payload)
    {
        var status = Varint.TryRead(payload.Span, out int length, out int prefix);
        if (status != FormatError.None)
        {
            throw new EdgeCodecFormatException("Base-layer payload: malformed z-stream length.", status, 0);
        }

        if (length > payload.Length - prefix)
        {
            throw new EdgeCodecFormatException($"Base-layer payload: z stream of {length} bytes exceeds the {payload.Length - prefix} bytes present.", FormatError.Truncated, prefix);
        }

        return (payload.Slice(prefix, length), payload[(prefix + length)..]);
    }
}
