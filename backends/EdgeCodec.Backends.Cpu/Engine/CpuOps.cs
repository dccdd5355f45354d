using System.Buffers;
using EdgeCodec.Inference;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The engine's ops on the SDK's planar tensors (the integer-graph hook and the tests): same contracts as
/// <c>ConvKernel</c>, <c>AddKernel</c> and <c>QuantizeKernel</c>, bit for bit.
/// </summary>
internal static unsafe class CpuOps
{
    /// <summary>conv over the channel concatenation of <paramref name="parts"/>, like <c>ConvKernel.Run</c>.</summary>
    public static Tensor Conv(PackedConv pc, IReadOnlyList<U8Tensor> parts, int maxDegreeOfParallelism, TensorPool? pool = null)
    {
        ConvNode node = pc.Node;
        int h = parts[0].Height, w = parts[0].Width, r = pc.Ratio;
        int pad = 1;
        int rowStride = (w + (2 * pad)) * pc.ChannelStride;
        int bytes = (h + (2 * pad)) * rowStride;
        byte[] padded = ArrayPool<byte>.Shared.Rent(bytes);
        int[] offsets = ArrayPool<int>.Shared.Rent(pc.PaddedOut);
        byte[] contiguous = ArrayPool<byte>.Shared.Rent(pc.PaddedOut / ConvGeometry.Block);
        try
        {
            ToPaddedNhwc(parts, padded, pc.ChannelStride, pad);
            Tensor result = node.OutputU8
                ? TensorPool.U8(pool, pc.ResultChannels, h * r, w * r, node.ZeroPoint)
                : TensorPool.I32(pool, pc.ResultChannels, h * r, w * r);
            long plane = (long)h * r * w * r;
            ConvRunner.Layout(pc, plane, 1, w * r, offsets, contiguous);
            fixed (byte* pIn = padded)
            fixed (int* pOff = offsets)
            fixed (byte* pCont = contiguous)
            {
                var view = new OutputView { U8 = node.OutputU8, YStep = (long)r * w * r, XStep = r, ChanOffset = pOff, Contiguous = pCont };
                byte* origin = pIn + rowStride + (pad * pc.ChannelStride);
                if (result is U8Tensor u8)
                {
                    fixed (byte* d = u8.Data)
                    {
                        view.Dst = d;
                        ConvRunner.Run(pc, origin, rowStride, h, w, view, maxDegreeOfParallelism);
                    }
                }
                else
                {
                    fixed (int* d = ((I32Tensor)result).Data)
                    {
                        view.Dst = (byte*)d;
                        ConvRunner.Run(pc, origin, rowStride, h, w, view, maxDegreeOfParallelism);
                    }
                }
            }

            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(padded);
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<byte>.Shared.Return(contiguous);
        }
    }

    /// <summary>Planar parts → one padded NHWC buffer, each part's border and channels set to its own zero point.</summary>
    public static void ToPaddedNhwc(IReadOnlyList<U8Tensor> parts, Span<byte> padded, int channelStride, int pad)
    {
        int h = parts[0].Height, w = parts[0].Width, wp = w + (2 * pad), hp = h + (2 * pad);
        padded[..(hp * wp * channelStride)].Clear();
        int c0 = 0;
        fixed (byte* dst0 = padded)
        {
            foreach (U8Tensor t in parts)
            {
                byte zp = (byte)t.ZeroPoint;
                fixed (byte* src0 = t.Data)
                {
                    for (int c = 0; c < t.Channels; c++)
                    {
                        byte* src = src0 + ((long)c * h * w);
                        byte* dst = dst0 + c0 + c;
                        for (int y = 0; y < hp; y++)
                        {
                            byte* d = dst + ((long)y * wp * channelStride);
                            int sy = y - pad;
                            if (sy < 0 || sy >= h)
                            {
                                for (int x = 0; x < wp; x++)
                                {
                                    d[x * channelStride] = zp;
                                }

                                continue;
                            }

                            for (int x = 0; x < pad; x++)
                            {
                                d[x * channelStride] = zp;
                                d[(wp - 1 - x) * channelStride] = zp;
                            }

                            // The interior: a strided byte scatter without bounds checks or per-pixel branches.
                            byte* s = src + ((long)sy * w);
                            byte* di = d + (pad * channelStride);
                            for (int x = 0; x < w; x++, di += channelStride)
                            {
                                *di = s[x];
                            }
                        }
                    }
                }

                c0 += t.Channels;
            }
        }
    }

    /// <summary>The <c>add</c> op on planar tensors, like <c>AddKernel.Run</c>.</summary>
    public static U8Tensor Add(KernelTable table, U8Tensor a, U8Tensor b, AddNode node)
    {
        var result = new U8Tensor(a.Channels, a.Height, a.Width, node.ZeroPoint);
        var p = new AddParams(a.ZeroPoint, b.ZeroPoint, node.MultA, node.MultB, node.Shift, node.ZeroPoint, node.Lo, node.Hi);
        fixed (byte* pa = a.Data)
        fixed (byte* pb = b.Data)
        fixed (byte* pd = result.Data)
        {
            table.Add(pa, pb, pd, result.Length, p);
        }

        return result;
    }

    /// <summary>The <c>quantize</c> op, like <c>QuantizeKernel.Run</c>: the table's requantisation with per-channel constants.</summary>
    public static U8Tensor Quantize(KernelTable table, I32Tensor x, ReadOnlySpan<int> mult, ReadOnlySpan<int> shift, int zeroPoint)
    {
        var result = new U8Tensor(x.Channels, x.Height, x.Width, zeroPoint);
        const int B = ConvGeometry.Block;
        long* biasRound = stackalloc long[B];
        long* mult64 = stackalloc long[B];
        int* mult32 = stackalloc int[B];
        ulong* shifts = stackalloc ulong[B];
        long* negShift = stackalloc long[B];
        int* vals = stackalloc int[B];
        int* tail = stackalloc int[B];
        RequantParams prm = new() { BiasRound = biasRound, Mult = mult64, Mult32 = mult32, Shift = shifts, NegShift = negShift, Zp = zeroPoint, Lo = 0, Hi = 255 };
        int plane = x.PlaneSize;
        fixed (int* src = x.Data)
        fixed (byte* dst = result.Data)
        {
            for (int c = 0; c < x.Channels; c++)
            {
                for (int l = 0; l < B; l++)
                {
                    biasRound[l] = 1L << (shift[c] - 1);
                    mult64[l] = mult32[l] = mult[c];
                    shifts[l] = (ulong)shift[c];
                    negShift[l] = -shift[c];
                }

                int* s = src + ((long)c * plane);
                byte* d = dst + ((long)c * plane);
                int i = 0;
                for (; i + B <= plane; i += B)
                {
                    table.Requant16(s + i, &prm, 0, vals);
                    for (int l = 0; l < B; l++)
                    {
                        d[i + l] = (byte)vals[l];
                    }
                }

                if (i < plane)
                {
                    new Span<int>(tail, B).Clear();
                    new ReadOnlySpan<int>(s + i, plane - i).CopyTo(new Span<int>(tail, B));
                    table.Requant16(tail, &prm, 0, vals);
                    for (int l = 0; l < plane - i; l++)
                    {
                        d[i + l] = (byte)vals[l];
                    }
                }
            }
        }

        return result;
    }
}
