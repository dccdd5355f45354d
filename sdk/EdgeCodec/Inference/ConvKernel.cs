namespace EdgeCodec.Inference;

/// <summary>
/// Scalar reference of the <c>conv</c> op: the ground truth every SIMD kernel must match bit for bit.
/// </summary>
/// <remarks>
/// <para>
/// Structure: the inputs are first copied into one zero-point-padded buffer (each part padded with its own zero point,
/// so the inner loops have no border branches). Then, per output row and per block of 4 output channels, int
/// accumulators for the whole row are filled input channel by input channel and tap by tap; a block of 4 reuses each
/// loaded input byte 4 times. Finally bias (64-bit), requantisation, clamp and the optional depth-to-space scatter.
/// </para>
/// <para>
/// Determinism: every output element is computed by exactly one row task with the same integer operations, so the
/// result does not depend on <c>maxDegreeOfParallelism</c> or on scheduling.
/// </para>
/// </remarks>
internal static class ConvKernel
{
    private const int Block = 4;

    public static Tensor Run(ConvNode node, IReadOnlyList<U8Tensor> parts, int maxDegreeOfParallelism, TensorPool? pool = null)
    {
        int h = parts[0].Height, w = parts[0].Width;
        int pad = node.Kernel / 2;
        byte[] padded = Pad(parts, pad, out int paddedWidth);
        int r = node.DepthToSpace == 0 ? 1 : node.DepthToSpace;
        int outChannels = node.OutChannels / (r * r);
        Tensor result = node.OutputU8
            ? TensorPool.U8(pool, outChannels, h * r, w * r, node.ZeroPoint)
            : TensorPool.I32(pool, outChannels, h * r, w * r);
        var rows = new RowJob(node, padded, paddedWidth, h + 2 * pad, w, result);

        if (maxDegreeOfParallelism <= 1 || h == 1)
        {
            int[] acc = new int[Block * w];
            for (int y = 0; y < h; y++)
            {
                rows.Compute(y, acc);
            }
        }
        else
        {
            Parallel.For(0, h, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
                () => new int[Block * w],
                (y, _, acc) =>
                {
                    rows.Compute(y, acc);
                    return acc;
                },
                _ => { });
        }

        return result;
    }

    /// <summary>Concatenates the parts channel-wise into <c>Cin × (H+2p) × (W+2p)</c>, border = each part's zero point.</summary>
    internal static byte[] Pad(IReadOnlyList<U8Tensor> parts, int pad, out int paddedWidth)
    {
        int h = parts[0].Height, w = parts[0].Width;
        int hp = h + 2 * pad;
        paddedWidth = w + 2 * pad;
        int channels = 0;
        foreach (U8Tensor t in parts)
        {
            channels += t.Channels;
        }

        byte[] padded = new byte[checked(channels * hp * paddedWidth)];
        int c0 = 0;
        foreach (U8Tensor t in parts)
        {
            for (int c = 0; c < t.Channels; c++)
            {
                Span<byte> plane = padded.AsSpan((c0 + c) * hp * paddedWidth, hp * paddedWidth);
                if (pad > 0)
                {
                    plane.Fill((byte)t.ZeroPoint);
                }

                for (int y = 0; y < h; y++)
                {
                    t.Data.AsSpan((c * h + y) * w, w).CopyTo(plane.Slice((y + pad) * paddedWidth + pad, w));
                }
            }

            c0 += t.Channels;
        }

        return padded;
    }

    private sealed class RowJob(ConvNode node, byte[] padded, int paddedWidth, int paddedHeight, int width, Tensor result)
    {
        public void Compute(int y, int[] accumulators)
        {
            int k = node.Kernel;
            int cin = node.InChannels;
            int o = 0;
            for (; o + Block <= node.OutChannels; o += Block)
            {
                Span<int> acc = accumulators.AsSpan(0, Block * width);
                acc.Clear();
                if (k == 3)
                {
                    Accumulate3x3Block4(y, o, acc);
                }
                else
                {
                    Accumulate1x1Block4(y, o, acc);
                }

                for (int j = 0; j < Block; j++)
                {
                    Store(y, o + j, acc.Slice(j * width, width));
                }
            }

            // Tail: output channel counts that are not a multiple of the block, one channel at a time.
            for (; o < node.OutChannels; o++)
            {
                Span<int> acc = accumulators.AsSpan(0, width);
                acc.Clear();
                for (int c = 0; c < cin; c++)
                {
                    for (int dy = 0; dy < k; dy++)
                    {
                        ReadOnlySpan<byte> src = Row(c, y + dy);
                        for (int dx = 0; dx < k; dx++)
                        {
                            int wv = node.Weight[((o * cin + c) * k + dy) * k + dx];
                            ReadOnlySpan<byte> s = src.Slice(dx, width);
                            for (int x = 0; x < s.Length; x++)
                            {
                                acc[x] += wv * s[x];
                            }
                        }
                    }
                }

                Store(y, o, acc);
            }
        }

        private ReadOnlySpan<byte> Row(int c, int paddedY) => padded.AsSpan((c * paddedHeight + paddedY) * paddedWidth, paddedWidth);

        private void Accumulate1x1Block4(int y, int o, Span<int> acc)
        {
            int cin = node.InChannels;
            sbyte[] wt = node.Weight;
            Span<int> a0 = acc.Slice(0, width), a1 = acc.Slice(width, width), a2 = acc.Slice(2 * width, width), a3 = acc.Slice(3 * width, width);
            for (int c = 0; c < cin; c++)
            {
                int w0 = wt[o * cin + c], w1 = wt[(o + 1) * cin + c], w2 = wt[(o + 2) * cin + c], w3 = wt[(o + 3) * cin + c];
                ReadOnlySpan<byte> s = Row(c, y).Slice(0, width);
                for (int x = 0; x < s.Length; x++)
                {
                    int v = s[x];
                    a0[x] += w0 * v;
                    a1[x] += w1 * v;
                    a2[x] += w2 * v;
                    a3[x] += w3 * v;
                }
            }
        }

        private void Accumulate3x3Block4(int y, int o, Span<int> acc)
        {
            int cin = node.InChannels;
            sbyte[] wt = node.Weight;
            Span<int> a0 = acc.Slice(0, width), a1 = acc.Slice(width, width), a2 = acc.Slice(2 * width, width), a3 = acc.Slice(3 * width, width);
            for (int c = 0; c < cin; c++)
            {
                for (int dy = 0; dy < 3; dy++)
                {
                    // Taps dx = 0..2 of row dy for the 4 output channels of the block.
                    int b0 = ((o * cin + c) * 3 + dy) * 3, stride = cin * 9;
                    int w00 = wt[b0], w01 = wt[b0 + 1], w02 = wt[b0 + 2];
                    int w10 = wt[b0 + stride], w11 = wt[b0 + stride + 1], w12 = wt[b0 + stride + 2];
                    int w20 = wt[b0 + 2 * stride], w21 = wt[b0 + 2 * stride + 1], w22 = wt[b0 + 2 * stride + 2];
                    int w30 = wt[b0 + 3 * stride], w31 = wt[b0 + 3 * stride + 1], w32 = wt[b0 + 3 * stride + 2];
                    ReadOnlySpan<byte> s = Row(c, y + dy).Slice(0, width + 2);
                    for (int x = 0; x < a0.Length; x++)
                    {
                        int s0 = s[x], s1 = s[x + 1], s2 = s[x + 2];
                        a0[x] += w00 * s0 + w01 * s1 + w02 * s2;
                        a1[x] += w10 * s0 + w11 * s1 + w12 * s2;
                        a2[x] += w20 * s0 + w21 * s1 + w22 * s2;
                        a3[x] += w30 * s0 + w31 * s1 + w32 * s2;
                    }
                }
            }
        }

        /// <summary>Bias, requantisation, clamp, then the plain or depth-to-space placement of output channel <paramref name="o"/>.</summary>
        private void Store(int y, int o, ReadOnlySpan<int> acc)
        {
            long bias = node.Bias[o];
            int mult = node.Mult[o], shift = node.Shift[o];
            int zp = node.ZeroPoint, lo = node.Lo, hi = node.Hi;
            int c = o, outY = y, outW = width, step = 1, first = 0;
            if (node.DepthToSpace == 2)
            {
                c = o >> 2;
                outY = 2 * y + ((o >> 1) & 1);
                outW = 2 * width;
                step = 2;
                first = o & 1;
            }

            int rowBase = (c * result.Height + outY) * outW + first;
            if (result is U8Tensor u8)
            {
                byte[] dst = u8.Data;
                for (int x = 0; x < acc.Length; x++)
                {
                    dst[rowBase + x * step] = (byte)IntegerMath.Clamp(zp + IntegerMath.Requant(bias + acc[x], mult, shift), lo, hi);
                }
            }
            else
            {
                int[] dst = ((I32Tensor)result).Data;
                for (int x = 0; x < acc.Length; x++)
                {
                    dst[rowBase + x * step] = (int)IntegerMath.Clamp(zp + IntegerMath.Requant(bias + acc[x], mult, shift), lo, hi);
                }
            }
        }
    }
}
