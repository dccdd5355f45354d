namespace EdgeCodec.Inference;

/// <summary>
/// A u8 activation: bytes whose real value is proportional to <c>byte - ZeroPoint</c>.
/// </summary>
/// <remarks>
/// Invariant: <see cref="ZeroPoint"/> is also the value that pads this tensor at an image or tile border, so padding
/// means "real value 0" whatever the zero point is.
/// </remarks>
internal sealed class U8Tensor : Tensor
{
    public U8Tensor(int channels, int height, int width, int zeroPoint)
        : base(channels, height, width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(zeroPoint);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(zeroPoint, 255);
        ZeroPoint = zeroPoint;
        Data = new byte[Length];
    }

    public U8Tensor(int channels, int height, int width, int zeroPoint, byte[] data)
        : base(channels, height, width)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(zeroPoint);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(zeroPoint, 255);
        if (data.Length != Length)
        {
            throw new ArgumentException($"Expected {Length} bytes for {channels}x{height}x{width}, got {data.Length}.", nameof(data));
        }

        ZeroPoint = zeroPoint;
        Data = data;
    }

    public int ZeroPoint { get; }

    public byte[] Data { get; }

    public Span<byte> Plane(int channel) => Data.AsSpan(channel * PlaneSize, PlaneSize);
}
