namespace EdgeCodec.Inference;

/// <summary>An activation tensor of the integer engine, laid out channel-major (C×H×W, row-major planes).</summary>
/// <remarks>The two concrete kinds mirror the spec: <see cref="U8Tensor"/> (bytes with a zero point) and <see cref="I32Tensor"/>.</remarks>
internal abstract class Tensor
{
    private protected Tensor(int channels, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        Channels = channels;
        Height = height;
        Width = width;
        Length = checked(channels * height * width);
    }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Number of elements, <c>C·H·W</c>.</summary>
    public int Length { get; }

    public int PlaneSize => Height * Width;

    public bool SameShape(Tensor other) => Channels == other.Channels && Height == other.Height && Width == other.Width;

    public override string ToString() => $"{GetType().Name}[{Channels}x{Height}x{Width}]";
}
