using System.Runtime.CompilerServices;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// A reusable u8 activation in padded NHWC layout: <c>(H+2) × (W+2)</c> pixels of <see cref="ChannelStride"/> bytes
/// (channels rounded up to 4), a one-pixel border holding the tensor's zero point. Padding channels start at 0 and may later hold anything
/// (an add writes them): every conv gives them zero weights.
/// </summary>
/// <remarks>
/// Invariant: producers write every interior pixel and only the interior, so the border set by <see cref="Resize"/>
/// survives every call of the same size; a different size rewrites the border of the new geometry. The array is pinned so kernels hold raw pointers into it.
/// </remarks>
internal sealed unsafe class NhwcBuffer
{
    private byte[] _data = [];

    public NhwcBuffer(int channels, int zeroPoint)
    {
        Channels = channels;
        ChannelStride = (channels + 3) / 4 * 4;
        ZeroPoint = zeroPoint;
    }

    public int Channels { get; }

    public int ChannelStride { get; }

    public int ZeroPoint { get; }

    public int Height { get; private set; }

    public int Width { get; private set; }

    public int RowStride => (Width + 2) * ChannelStride;

    /// <summary>Address of interior pixel (0, 0).</summary>
    public byte* Origin => (byte*)Unsafe.AsPointer(ref _data[0]) + RowStride + ChannelStride;

    public void Resize(int height, int width)
    {
        if (height == Height && width == Width)
        {
            return;
        }

        int bytes = checked((height + 2) * (width + 2) * ChannelStride);
        if (_data.Length < bytes)
        {
            _data = GC.AllocateArray<byte>(bytes, pinned: true);
        }

        Height = height;
        Width = width;

        // Only the border needs the zero point: producers write every interior pixel before anything reads it. (Filling
        // the whole buffer on every size change cost a full pass over each activation whenever neighbouring tiles had
        // different window sizes, e.g. the 20/24/20-latent windows of a 3-tile-wide image.)
        Span<byte> pixel = stackalloc byte[ChannelStride];
        pixel.Clear();
        pixel[..Channels].Fill((byte)ZeroPoint);
        int rowStride = RowStride;
        Span<byte> top = _data.AsSpan(0, rowStride);
        for (int x = 0; x < width + 2; x++)
        {
            pixel.CopyTo(top.Slice(x * ChannelStride, ChannelStride));
        }

        top.CopyTo(_data.AsSpan((height + 1) * rowStride, rowStride));
        for (int y = 1; y <= height; y++)
        {
            pixel.CopyTo(_data.AsSpan(y * rowStride, ChannelStride));
            pixel.CopyTo(_data.AsSpan((y * rowStride) + ((width + 1) * ChannelStride), ChannelStride));
        }
    }
}
