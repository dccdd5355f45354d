using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using static EdgeCodec.Entropy.RansConstants;

namespace EdgeCodec.Entropy;

/// <summary>The rANS encoder: each lane is coded last value first so its decoder reads forwards.</summary>
internal static class RansEncoderCore
{
    /// <summary>
    /// Encodes with the lane count <see cref="RansCodec.ChooseLaneCount"/> picks: first with
    /// <see cref="RansCodec.MaxLaneCount"/> lanes, then again with fewer when the stream is small.
    /// </summary>
    public static RansLaneBuffer EncodeAuto(ReadOnlySpan<int> values, ReadOnlySpan<int> tableIndices, CdfTableSet tables)
    {
        RansLaneBuffer widest = EncodeLanes(values, tableIndices, tables, RansCodec.MaxLaneCount);
        int lanes = RansCodec.ChooseLaneCount(widest.EncodedLength);
        if (lanes == RansCodec.MaxLaneCount)
        {
            return widest;
        }

        widest.Dispose();
        return EncodeLanes(values, tableIndices, tables, lanes);
    }

    public static unsafe RansLaneBuffer EncodeLanes(ReadOnlySpan<int> values, ReadOnlySpan<int> tableIndices, CdfTableSet tables, int lanes)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (values.Length != tableIndices.Length)
        {
            throw new ArgumentException($"Got {values.Length} values but {tableIndices.Length} table indices.", nameof(tableIndices));
        }

        if (!RansCodec.IsValidLaneCount(lanes))
        {
            throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "The lane count must be 1, 2, 4 or 8.");
        }

        int count = values.Length;
        CdfTableSet.TableInfo[] info = tables.Info;

        // Exact upper bound per lane, so the backwards writes below need no bounds checks.
        Span<long> bound = stackalloc long[RansCodec.MaxLaneCount];
        for (int i = 0; i < count; i++)
        {
            int t = tableIndices[i];
            if ((uint)t >= (uint)info.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(tableIndices), $"Table index {t} at position {i} is outside 0..{info.Length - 1}.");
            }

            long s = (long)values[i] - info[t].Offset;
            bound[i & (lanes - 1)] += (ulong)s < (ulong)info[t].Count ? MaxBytesPerDirect : MaxBytesPerEscape;
        }

        var laneStart = new int[lanes];
        var laneEnd = new int[lanes];
        long total = 0;
        for (int j = 0; j < lanes; j++)
        {
            if (j < count)
            {
                total += bound[j] + StateBytes;
            }

            laneEnd[j] = (int)Math.Min(total, int.MaxValue);
        }

        if (total > Array.MaxLength - 64)
        {
            throw new ArgumentException("The encoded stream would exceed 2 GiB; split the values into smaller streams.", nameof(values));
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(total, 1));
        fixed (byte* b = buffer)
        fixed (int* cdf = tables.FlatCdf)
        {
            for (int j = 0; j < lanes; j++)
            {
                if (j >= count)
                {
                    laneStart[j] = laneEnd[j];
                    continue;
                }

                uint x = StateLow;
                byte* p = b + laneEnd[j];
                int last = j + ((count - 1 - j) / lanes * lanes);
                for (int i = last; i >= 0; i -= lanes)
                {
                    CdfTableSet.TableInfo ti = info[tableIndices[i]];
                    int v = values[i];
                    int* c = cdf + ti.CdfBase;
                    long s = (long)v - ti.Offset;
                    if ((ulong)s < (ulong)ti.Count)
                    {
                        Put(ref x, ref p, (uint)c[s], (uint)(c[s + 1] - c[s]));
                        continue;
                    }

                    // Escape: the decoder reads escape, length, chunks most significant first, so write them in reverse.
                    uint u = ZigZag(unchecked(v - ti.Offset));
                    int chunks = ChunkCount(u);
                    for (int k = 0; k < chunks; k++)
                    {
                        Put(ref x, ref p, ((u >> (ChunkBits * k)) & 0xF) << (16 - ChunkBits), 1u << (16 - ChunkBits));
                    }

                    Put(ref x, ref p, (uint)(chunks - 1) << (16 - LengthBits), 1u << (16 - LengthBits));
                    Put(ref x, ref p, (uint)c[ti.Count], (uint)(CdfTableSet.Total - c[ti.Count]));
                }

                // The final state leads the lane, big-endian, so the decoder starts by reading it.
                *--p = (byte)x;
                *--p = (byte)(x >> 8);
                *--p = (byte)(x >> 16);
                *--p = (byte)(x >> 24);
                laneStart[j] = (int)(p - b);
            }
        }

        return new RansLaneBuffer(buffer, laneStart, laneEnd);
    }

    internal static uint ZigZag(int d) => (uint)((d << 1) ^ (d >> 31));

    internal static int ChunkCount(uint u) => Math.Max(1, (32 - BitOperations.LeadingZeroCount(u) + ChunkBits - 1) / ChunkBits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put(ref uint x, ref byte* p, uint start, uint freq)
    {
        uint limit = freq << EncodeShift;
        while (x >= limit)
        {
            *--p = (byte)x;
            x >>= 8;
        }

        x = ((x / freq) << CdfTableSet.PrecisionBits) + (x % freq) + start;
    }
}
