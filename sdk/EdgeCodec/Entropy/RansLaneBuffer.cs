using System.Buffers;
using EdgeCodec.Format;

namespace EdgeCodec.Entropy;

/// <summary>
/// The encoder's lane bytes, each written backwards into its own region of one pooled buffer,
/// and the serialisation of header + lanes into the final stream layout.
/// </summary>
internal struct RansLaneBuffer : IDisposable
{
    private byte[]? _buffer;
    private readonly int[] _laneStart;
    private readonly int[] _laneEnd;

    public RansLaneBuffer(byte[] buffer, int[] laneStart, int[] laneEnd)
    {
        _buffer = buffer;
        _laneStart = laneStart;
        _laneEnd = laneEnd;
        int length = 1;
        for (int j = 0; j < laneStart.Length; j++)
        {
            int laneLength = laneEnd[j] - laneStart[j];
            length = checked(length + Varint.Length((uint)laneLength) + laneLength);
        }

        EncodedLength = length;
    }

    public int EncodedLength { get; }

    public readonly void CopyTo(Span<byte> destination)
    {
        byte[] buffer = _buffer ?? throw new ObjectDisposedException(nameof(RansLaneBuffer));
        destination[0] = (byte)_laneStart.Length;
        int pos = 1;
        for (int j = 0; j < _laneStart.Length; j++)
        {
            pos += Varint.Write(destination[pos..], (uint)(_laneEnd[j] - _laneStart[j]));
        }

        for (int j = 0; j < _laneStart.Length; j++)
        {
            ReadOnlySpan<byte> lane = buffer.AsSpan(_laneStart[j], _laneEnd[j] - _laneStart[j]);
            lane.CopyTo(destination[pos..]);
            pos += lane.Length;
        }
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
