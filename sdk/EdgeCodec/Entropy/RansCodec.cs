using System.Buffers;
using EdgeCodec.Format;

namespace EdgeCodec.Entropy;

/// <summary>
/// Interleaved rANS entropy coding of <see cref="int"/> values with per-value CDF tables
/// (32-bit state, byte-wise renormalisation, 16-bit precision, 1, 2, 4 or 8 lanes).
/// The byte layout is specified in <c>docs/entropy.md</c>.
/// </summary>
/// <remarks>
/// Value <c>i</c> is coded with table <c>tableIndices[i]</c> on lane <c>i % lanes</c>; the stream's first byte
/// says how many lanes it has. More lanes decode faster (independent dependency chains), fewer lanes cost fewer
/// bytes (each lane carries a 4-byte final state and a length), so the encoder picks the count from the stream's
/// size (<see cref="ChooseLaneCount"/>). A value outside the
/// table's direct range is coded as the escape symbol followed by a bypass code that can represent any
/// <see cref="int"/>, so encoding never fails on data. The decoder never reads outside its input, does work
/// bounded by the number of values, allocates nothing, and reports corrupt input as
/// <see cref="EdgeCodecFormatException"/> (or <see langword="false"/> from <see cref="TryDecode"/>).
/// </remarks>
public static class RansCodec
{
    /// <summary>The largest number of interleaved rANS lanes a stream may have (the format allows 1, 2, 4 and 8).</summary>
    public const int MaxLaneCount = 8;

    /// <summary>
    /// Payload bytes per lane below which the encoder halves the lane count: a lane's fixed cost is about
    /// 5.5 bytes, so this keeps it near 0.5 % of a stream, while streams of ≥ 8 KiB (large tiles, high rates) keep all
    /// 8 lanes. Was 256 (≥ 2 KiB for 8 lanes) until session 27: on Kodak files 1024 is 0.2–0.8 % smaller per level,
    /// and 2 lanes decode nearly as fast as 8 on an AVX2 EPYC (docs/entropy.md).
    /// </summary>
    public const int TargetLaneBytes = 1024;

    /// <summary>
    /// The lane count the encoder uses for a stream that takes <paramref name="bytesWithMaxLanes"/> bytes with
    /// <see cref="MaxLaneCount"/> lanes: the largest of 8, 4, 2, 1 that leaves every lane at least
    /// <see cref="TargetLaneBytes"/> bytes on average (1 for tiny streams).
    /// </summary>
    /// <param name="bytesWithMaxLanes">Encoded length with 8 lanes.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int ChooseLaneCount(int bytesWithMaxLanes)
    {
        int lanes = MaxLaneCount;
        while (lanes > 1 && bytesWithMaxLanes < lanes * TargetLaneBytes)
        {
            lanes >>= 1;
        }

        return lanes;
    }

    /// <summary>Whether <paramref name="lanes"/> is a lane count the format allows (1, 2, 4 or 8).</summary>
    /// <param name="lanes">A lane count.</param>
    /// <returns><see langword="true"/> for 1, 2, 4 and 8.</returns>
    public static bool IsValidLaneCount(int lanes) => lanes is 1 or 2 or 4 or 8;

    /// <summary>Encodes <paramref name="values"/> into a new array.</summary>
    /// <param name="values">The values to code.</param>
    /// <param name="tableIndices">For each value, the index of the table in <paramref name="tables"/> that codes it.</param>
    /// <param name="tables">The table set shared with the decoder.</param>
    /// <returns>The encoded stream (header and lanes).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tables"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> and <paramref name="tableIndices"/> differ in length, or the output would exceed 2 GiB.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A table index is outside <c>0 .. tables.TableCount - 1</c>.</exception>
    public static byte[] Encode(ReadOnlySpan<int> values, ReadOnlySpan<int> tableIndices, CdfTableSet tables)
    {
        using RansLaneBuffer lanes = RansEncoderCore.EncodeAuto(values, tableIndices, tables);
        var result = new byte[lanes.EncodedLength];
        lanes.CopyTo(result);
        return result;
    }

    /// <summary>Encodes <paramref name="values"/> with exactly <paramref name="laneCount"/> lanes.</summary>
    /// <param name="values">The values to code.</param>
    /// <param name="tableIndices">For each value, the index of the table in <paramref name="tables"/> that codes it.</param>
    /// <param name="tables">The table set shared with the decoder.</param>
    /// <param name="laneCount">1, 2, 4 or 8: more lanes decode faster, fewer cost fewer bytes.</param>
    /// <returns>The encoded stream (header and lanes).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tables"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> and <paramref name="tableIndices"/> differ in length, or the output would exceed 2 GiB.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A table index is outside <c>0 .. tables.TableCount - 1</c>, or <paramref name="laneCount"/> is not 1, 2, 4 or 8.</exception>
    public static byte[] Encode(ReadOnlySpan<int> values, ReadOnlySpan<int> tableIndices, CdfTableSet tables, int laneCount)
    {
        using RansLaneBuffer lanes = RansEncoderCore.EncodeLanes(values, tableIndices, tables, laneCount);
        var result = new byte[lanes.EncodedLength];
        lanes.CopyTo(result);
        return result;
    }

    /// <summary>Encodes <paramref name="values"/> and appends the stream to <paramref name="output"/>.</summary>
    /// <param name="values">The values to code.</param>
    /// <param name="tableIndices">For each value, the index of the table in <paramref name="tables"/> that codes it.</param>
    /// <param name="tables">The table set shared with the decoder.</param>
    /// <param name="output">Receives the encoded stream.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tables"/> or <paramref name="output"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> and <paramref name="tableIndices"/> differ in length, or the output would exceed 2 GiB.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A table index is outside <c>0 .. tables.TableCount - 1</c>.</exception>
    public static int Encode(ReadOnlySpan<int> values, ReadOnlySpan<int> tableIndices, CdfTableSet tables, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using RansLaneBuffer lanes = RansEncoderCore.EncodeAuto(values, tableIndices, tables);
        int length = lanes.EncodedLength;
        lanes.CopyTo(output.GetSpan(length));
        output.Advance(length);
        return length;
    }

    /// <summary>Decodes a stream produced by <see cref="Encode(ReadOnlySpan{int}, ReadOnlySpan{int}, CdfTableSet)"/>.</summary>
    /// <param name="data">The encoded stream; it must end exactly where the stream ends.</param>
    /// <param name="tableIndices">The same table indices the encoder used; their count is the number of values.</param>
    /// <param name="tables">The same table set the encoder used.</param>
    /// <param name="values">Receives <c>tableIndices.Length</c> values. On failure its contents are unspecified.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tables"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is shorter than <paramref name="tableIndices"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A table index is outside <c>0 .. tables.TableCount - 1</c>.</exception>
    /// <exception cref="EdgeCodecFormatException">
    /// The stream is corrupt: truncated (<see cref="FormatError.Truncated"/>), a lane ran out of bytes
    /// (<see cref="FormatError.LaneExhausted"/>), a lane did not end in the initial state
    /// (<see cref="FormatError.FinalStateMismatch"/>), bytes are left over (<see cref="FormatError.TrailingData"/>),
    /// the header is not this version (<see cref="FormatError.UnsupportedVersion"/>) or is otherwise invalid
    /// (<see cref="FormatError.Malformed"/>).
    /// </exception>
    public static void Decode(ReadOnlySpan<byte> data, ReadOnlySpan<int> tableIndices, CdfTableSet tables, Span<int> values)
    {
        RansDecodeResult result = RansDecoderCore.Decode(data, tableIndices, tables, values);
        if (result.Error != FormatError.None)
        {
            throw new EdgeCodecFormatException(result.Describe(), result.Error, result.Offset);
        }
    }

    /// <summary>Decodes like <see cref="Decode"/> but reports corrupt data by returning <see langword="false"/>.</summary>
    /// <param name="data">The encoded stream; it must end exactly where the stream ends.</param>
    /// <param name="tableIndices">The same table indices the encoder used; their count is the number of values.</param>
    /// <param name="tables">The same table set the encoder used.</param>
    /// <param name="values">Receives <c>tableIndices.Length</c> values. On failure its contents are unspecified.</param>
    /// <param name="error">The category of the problem, or <see cref="FormatError.None"/> on success.</param>
    /// <returns><see langword="true"/> when the stream decoded and passed every end-of-stream check.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tables"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is shorter than <paramref name="tableIndices"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A table index is outside <c>0 .. tables.TableCount - 1</c>.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> data, ReadOnlySpan<int> tableIndices, CdfTableSet tables, Span<int> values, out FormatError error)
    {
        error = RansDecoderCore.Decode(data, tableIndices, tables, values).Error;
        return error == FormatError.None;
    }
}
