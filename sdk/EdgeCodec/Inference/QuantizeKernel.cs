namespace EdgeCodec.Inference;

/// <summary>Scalar reference of the <c>quantize</c> op.</summary>
internal static class QuantizeKernel
{
    public static U8Tensor Run(I32Tensor x, ReadOnlySpan<int> mult, ReadOnlySpan<int> shift, int zeroPoint, TensorPool? pool = null)
    {
        var result = TensorPool.U8(pool, x.Channels, x.Height, x.Width, zeroPoint);
        for (int c = 0; c < x.Channels; c++)
        {
            ReadOnlySpan<int> src = x.Plane(c);
            Span<byte> dst = result.Plane(c);
            int m = mult[c];
            int s = shift[c];
            for (int i = 0; i < src.Length; i++)
            {
                dst[i] = (byte)IntegerMath.Clamp(zeroPoint + IntegerMath.Requant(src[i], m, s), 0, 255);
            }
        }

        return result;
    }
}
