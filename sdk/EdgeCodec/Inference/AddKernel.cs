namespace EdgeCodec.Inference;

/// <summary>Scalar reference of the <c>add</c> op (a residual join of two u8 tensors).</summary>
internal static class AddKernel
{
    public static U8Tensor Run(U8Tensor a, U8Tensor b, AddNode node, TensorPool? pool = null)
    {
        var result = TensorPool.U8(pool, a.Channels, a.Height, a.Width, node.ZeroPoint);
        ReadOnlySpan<byte> pa = a.Data;
        ReadOnlySpan<byte> pb = b.Data;
        Span<byte> dst = result.Data;
        int zpA = a.ZeroPoint, zpB = b.ZeroPoint;
        for (int i = 0; i < dst.Length; i++)
        {
            long acc = (long)(pa[i] - zpA) * node.MultA + (long)(pb[i] - zpB) * node.MultB;
            dst[i] = (byte)IntegerMath.Clamp(node.ZeroPoint + IntegerMath.RshiftRound(acc, node.Shift), node.Lo, node.Hi);
        }

        return result;
    }
}
