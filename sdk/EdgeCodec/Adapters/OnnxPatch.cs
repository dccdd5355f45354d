using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EdgeCodec.Adapters;

/// <summary>
/// Applies an adapter's ONNX patch (<c>onnx/synthesis.qdq.patch</c>) to the base pack's QDQ synthesis graph: replaces
/// the raw bytes of named initializers in place (same sizes), after checking the SHA-256 of the base graph, and checks
/// the SHA-256 of the result. Format (little-endian): <c>"ECOP"</c>, u32 version 1, base SHA-256 [32], result SHA-256
/// [32], u32 count, then per entry u16 name length, UTF-8 name, u32 data length, data. Only the protobuf structure
/// needed is read (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.name = 8, raw_data = 9).
/// </summary>
internal static class OnnxPatch
{
    private const int MaxEntries = 1024;

    /// <summary>Returns the patched graph.</summary>
    /// <exception cref="AdapterVerificationException">The patch is malformed, made for another graph, or does not produce the graph it promises.</exception>
    public static byte[] Apply(ReadOnlySpan<byte> baseModel, ReadOnlySpan<byte> patch, string adapterId)
    {
        if (patch.Length < 76 || !patch[..4].SequenceEqual("ECOP"u8) || BinaryPrimitives.ReadUInt32LittleEndian(patch[4..]) != 1)
        {
            throw new AdapterVerificationException($"Adapter '{adapterId}': the ONNX patch has no valid header.");
        }

        var baseSha = patch.Slice(8, 32);
        var resultSha = patch.Slice(40, 32);
        if (!SHA256.HashData(baseModel).AsSpan().SequenceEqual(baseSha))
        {
            throw new AdapterVerificationException($"Adapter '{adapterId}': the ONNX patch was made for another synthesis graph.");
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(patch[72..]);
        if (count > MaxEntries)
        {
            throw new AdapterVerificationException($"Adapter '{adapterId}': the ONNX patch has {count} entries.");
        }

        var initializers = IndexInitializers(baseModel, adapterId);
        byte[] result = baseModel.ToArray();
        int pos = 76;
        for (uint i = 0; i < count; i++)
        {
            if (pos + 2 > patch.Length)
            {
                throw Truncated(adapterId);
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(patch[pos..]);
            pos += 2;
            if (pos + nameLength + 4 > patch.Length)
            {
                throw Truncated(adapterId);
            }

            string name = Encoding.UTF8.GetString(patch.Slice(pos, nameLength));
            pos += nameLength;
            uint dataLength = BinaryPrimitives.ReadUInt32LittleEndian(patch[pos..]);
            pos += 4;
            if (dataLength > (uint)(patch.Length - pos))
            {
                throw Truncated(adapterId);
            }

            if (!initializers.TryGetValue(name, out var target) || target.Length != dataLength)
            {
                throw new AdapterVerificationException($"Adapter '{adapterId}': the ONNX patch names initializer '{name}' ({dataLength} bytes), which the graph does not have in that size.");
            }

            patch.Slice(pos, (int)dataLength).CopyTo(result.AsSpan(target.Offset));
            pos += (int)dataLength;
        }

        if (pos != patch.Length || !SHA256.HashData(result).AsSpan().SequenceEqual(resultSha))
        {
            throw new AdapterVerificationException($"Adapter '{adapterId}': the patched ONNX graph is not the one the patch promises.");
        }

        return result;
    }

    private static AdapterVerificationException Truncated(string id) => new($"Adapter '{id}': the ONNX patch is truncated.");

    /// <summary>raw_data (offset, length) of every initializer, by name.</summary>
    private static Dictionary<string, (int Offset, int Length)> IndexInitializers(ReadOnlySpan<byte> model, string id)
    {
        var result = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var (field, start, length) in Fields(model, 0, model.Length, id))
        {
            if (field != 7)
            {
                continue;
            }

            foreach (var (gField, gStart, gLength) in Fields(model, start, length, id))
            {
                if (gField != 5)
                {
                    continue;
                }

                string? name = null;
                (int, int)? raw = null;
                foreach (var (tField, tStart, tLength) in Fields(model, gStart, gLength, id))
                {
                    if (tField == 8)
                    {
                        name = Encoding.UTF8.GetString(model.Slice(tStart, tLength));
                    }
                    else if (tField == 9)
                    {
                        raw = (tStart, tLength);
                    }
                }

                if (name is not null && raw is { } r)
                {
                    result[name] = r;
                }
            }
        }

        return result;
    }

    /// <summary>The length-delimited fields (number, payload start, payload length) of the message in [start, start + length).</summary>
    private static List<(int Field, int Start, int Length)> Fields(ReadOnlySpan<byte> data, int start, int length, string id)
    {
        var fields = new List<(int, int, int)>();
        int pos = start;
        int end = start + length;
        while (pos < end)
        {
            ulong tag = ReadVarint(data, ref pos, end, id);
            int wire = (int)(tag & 7);
            int field = (int)(tag >> 3);
            switch (wire)
            {
                case 0:
                    ReadVarint(data, ref pos, end, id);
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case 2:
                    ulong n = ReadVarint(data, ref pos, end, id);
                    if (n > (ulong)(end - pos))
                    {
                        throw new AdapterVerificationException($"Adapter '{id}': the base ONNX graph is malformed.");
                    }

                    fields.Add((field, pos, (int)n));
                    pos += (int)n;
                    break;
                default:
                    throw new AdapterVerificationException($"Adapter '{id}': the base ONNX graph uses protobuf wire type {wire}.");
            }
        }

        if (pos != end)
        {
            throw new AdapterVerificationException($"Adapter '{id}': the base ONNX graph is malformed.");
        }

        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos, int end, string id)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= end)
            {
                break;
            }

            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new AdapterVerificationException($"Adapter '{id}': the base ONNX graph has a bad varint.");
    }
}
