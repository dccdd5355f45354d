namespace EdgeCodec.Inference;

/// <summary>
/// A plain integer activation: the hyper-latent <c>z</c>, fixed-point latents <c>y</c> (F fraction bits), means
/// and scale indices.
/// </summary>
internal sealed class I32Tensor : Tensor
{
    public I32Tensor(int channels, int height, int width)
        : base(channels, height, width)
    {
        Data = new int[Length];
    }

    public I32Tensor(int channels, int height, int width, int[] data)
        : base(channels, height, width)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != Length)
        {
            throw new ArgumentException($"Expected {Length} values for {channels}x{height}x{width}, got {data.Length}.", nameof(data));
        }

        Data = data;
    }

    public int[] Data { get; }

    public Span<int> Plane(int channel) => Data.AsSpan(channel * PlaneSize, PlaneSize);

    /// <summary>Copies channels <c>[first, first + count)</c> into a new tensor.</summary>
    public I32Tensor SliceChannels(int first, int count)
    {
        var result = new I32Tensor(count, Height, Width);
        Data.AsSpan(first * PlaneSize, count * PlaneSize).CopyTo(result.Data);
        return result;
    }

    /// <summary>Copies the window <c>[y0, y0 + h) × [x0, x0 + w)</c> of every channel into a new tensor.</summary>
    public I32Tensor Crop(int y0, int x0, int h, int w)
    {
        var result = new I32Tensor(Channels, h, w);
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 0; y < h; y++)
            {
                Data.AsSpan((c * Height + y0 + y) * Width + x0, w).CopyTo(result.Data.AsSpan((c * h + y) * w, w));
            }
        }

        return result;
    }
}
