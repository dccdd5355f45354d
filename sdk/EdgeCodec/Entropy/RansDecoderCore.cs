using System.Runtime.CompilerServices;
using EdgeCodec.Format;
using static EdgeCodec.Entropy.RansConstants;

namespace EdgeCodec.Entropy;

/// <summary>
/// The rANS decoder. Lane states live in a small stack array and values are decoded in index order, so the
/// stream's independent dependency chains (up to <see cref="RansCodec.MaxLaneCount"/>) overlap in the out-of-order core.
/// </summary>
/// <remarks>
/// Safety invariants on arbitrary input: every state stays in [L, 2^31) (checked at load, preserved by the
/// decode step), so at most two bytes are read per renormalisation and each read is bounds-checked against the
/// lane end; the slot lookup scan stops at the last CDF entry (65536) at the latest; work is bounded by the
/// number of values times the longest escape (10 symbols).
/// </remarks>
internal static class RansDecoderCore
{
    private const int MaxLanes = RansCodec.MaxLaneCount;

    public static unsafe RansDecodeResult Decode(ReadOnlySpan<byte> data, ReadOnlySpan<int> tableIndices, CdfTableSet tables, Span<int> values)
    {
        ArgumentNullException.ThrowIfNull(tables);
        int count = tableIndices.Length;
        if (values.Length < count)
        {
            throw new ArgumentException($"The destination holds {values.Length} values but {count} are to be decoded.", nameof(values));
        }

        if (data.Length < 1)
        {
            return new RansDecodeResult(FormatError.Truncated, Offset: 0);
        }

        int lanes = data[0];
        if (!RansCodec.IsValidLaneCount(lanes))
        {
            return new RansDecodeResult(FormatError.UnsupportedVersion, Offset: 0);
        }

        int laneMask = lanes - 1;
        Span<int> laneLength = stackalloc int[MaxLanes];
        int pos = 1;
        long sum = 0;
        for (int j = 0; j < lanes; j++)
        {
            FormatError e = Varint.TryRead(data[pos..], out int length, out int used);
            if (e != FormatError.None)
            {
                return new RansDecodeResult(e, Offset: pos);
            }

            bool hasSymbols = j < count;
            if (hasSymbols ? length < StateBytes : length != 0)
            {
                return new RansDecodeResult(FormatError.Malformed, j, pos);
            }

            laneLength[j] = length;
            sum += length;
            pos += used;
        }

        if (sum != data.Length - pos)
        {
            return new RansDecodeResult(sum > data.Length - pos ? FormatError.Truncated : FormatError.TrailingData, Offset: data.Length);
        }

        uint* xs = stackalloc uint[MaxLanes];
        byte** ps = stackalloc byte*[MaxLanes];
        byte** es = stackalloc byte*[MaxLanes];
        CdfTableSet.TableInfo[] infoArray = tables.Info;
        uint tableCount = (uint)infoArray.Length;

        fixed (byte* d = data)
        fixed (int* idx = tableIndices)
        fixed (int* outv = values)
        fixed (int* cdf = tables.FlatCdf)
        fixed (ushort* buckets = tables.FlatBuckets)
        fixed (CdfTableSet.TableInfo* info = infoArray)
        {
            byte* p0 = d + pos;
            for (int j = 0; j < lanes; j++)
            {
                ps[j] = p0;
                es[j] = p0 + laneLength[j];
                p0 += laneLength[j];
                xs[j] = StateLow;
                if (j < count)
                {
                    byte* p = ps[j];
                    uint x = ((uint)p[0] << 24) | ((uint)p[1] << 16) | ((uint)p[2] << 8) | p[3];
                    if (x < StateLow || x >= 1u << 31)
                    {
                        return new RansDecodeResult(FormatError.Malformed, j, p - d);
                    }

                    xs[j] = x;
                    ps[j] = p + StateBytes;
                }
            }

            for (int i = 0; i < count; i++)
            {
                int lane = i & laneMask;
                uint t = (uint)idx[i];
                if (t >= tableCount)
                {
                    ThrowTableIndex(i, t, tableCount);
                }

                CdfTableSet.TableInfo* ti = info + t;
                uint x = xs[lane];
                uint slot = x & (CdfTableSet.Total - 1);
                int* c = cdf + ti->CdfBase;
                nint s = buckets[ti->BucketBase + (int)(slot >> CdfTableSet.BucketShift)];
                while ((uint)c[s + 1] <= slot)
                {
                    s++;
                }

                uint start = (uint)c[s];
                x = (((uint)c[s + 1] - start) * (x >> CdfTableSet.PrecisionBits)) + slot - start;
                byte* p = ps[lane];
                if (es[lane] - p >= 2)
                {
                    // Branchless: the refill depth k (0, 1 or 2 bytes) is data-dependent and unpredictable,
                    // so compute it instead of looping; both bytes are in bounds either way.
                    int k = (x < StateLow ? 1 : 0) + (x < (StateLow >> 8) ? 1 : 0);
                    int shift = k << 3;
                    uint w = ((uint)p[0] << 8) | p[1];
                    x = (uint)(((ulong)x << shift) | (w >> (16 - shift)));
                    ps[lane] = p + k;
                }
                else if (x < StateLow)
                {
                    byte* end = es[lane];
                    do
                    {
                        if (p >= end)
                        {
                            return new RansDecodeResult(FormatError.LaneExhausted, lane, end - d);
                        }

                        x = (x << 8) | *p++;
                    }
                    while (x < StateLow);
                    ps[lane] = p;
                }

                if (s != ti->Count)
                {
                    outv[i] = (int)s + ti->Offset;
                }
                else if (!DecodeEscape(ref x, ref ps[lane], es[lane], ti->Count, ti->Offset, out outv[i]))
                {
                    return new RansDecodeResult(ps[lane] >= es[lane] ? FormatError.LaneExhausted : FormatError.Malformed, lane, ps[lane] - d);
                }

                xs[lane] = x;
            }

            for (int j = 0; j < lanes && j < count; j++)
            {
                if (xs[j] != StateLow)
                {
                    return new RansDecodeResult(FormatError.FinalStateMismatch, j, es[j] - d);
                }

                if (ps[j] != es[j])
                {
                    return new RansDecodeResult(FormatError.TrailingData, j, ps[j] - d);
                }
            }
        }

        return RansDecodeResult.Ok;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe bool DecodeEscape(ref uint x, ref byte* p, byte* end, int count, int offset, out int value)
    {
        value = 0;
        uint chunks = UniformStep(ref x, LengthBits) + 1;
        if (!Renormalize(ref x, ref p, end))
        {
            return false;
        }

        uint u = 0;
        for (uint k = 0; k < chunks; k++)
        {
            uint chunk = UniformStep(ref x, ChunkBits);
            if (!Renormalize(ref x, ref p, end))
            {
                return false;
            }

            // A leading zero chunk would be a second spelling of a shorter code; only the encoder's spelling is valid.
            if (k == 0 && chunk == 0 && chunks > 1)
            {
                return false;
            }

            u = (u << ChunkBits) | chunk;
        }

        int d = (int)(u >> 1) ^ -(int)(u & 1);

        // The encoder escapes only values outside the direct range.
        if ((uint)d < (uint)count)
        {
            return false;
        }

        value = unchecked(d + offset);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint UniformStep(ref uint x, int bits)
    {
        int shift = CdfTableSet.PrecisionBits - bits;
        uint slot = x & (CdfTableSet.Total - 1);
        x = ((x >> CdfTableSet.PrecisionBits) << shift) + (slot & ((1u << shift) - 1));
        return slot >> shift;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool Renormalize(ref uint x, ref byte* p, byte* end)
    {
        while (x < StateLow)
        {
            if (p >= end)
            {
                return false;
            }

            x = (x << 8) | *p++;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTableIndex(int i, uint t, uint tableCount) =>
        throw new ArgumentOutOfRangeException("tableIndices", $"Table index {(int)t} at position {i} is outside 0..{tableCount - 1}.");
}
