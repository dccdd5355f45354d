using EdgeCodec.Inference;

namespace EdgeCodec.Tests.Inference;

/// <summary>The blocked conv kernel against a naive transcription of the spec formula, on random shapes.</summary>
public sealed class ConvKernelTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 4)]
    [InlineData(4, 5)]
    public void Blocked_kernel_matches_the_naive_formula(int seed, int parts)
    {
        var rng = new Random(seed);
        for (int round = 0; round < 12; round++)
        {
            int k = rng.Next(2) == 0 ? 1 : 3;
            int h = rng.Next(1, 7), w = rng.Next(1, 9);
            int o = rng.Next(1, 11);
            bool d2s = rng.Next(3) == 0;
            if (d2s)
            {
                o = 4 * rng.Next(1, 4);
            }

            var inputs = new U8Tensor[rng.Next(1, parts + 1)];
            int cin = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                int c = rng.Next(1, 6);
                byte[] data = new byte[c * h * w];
                rng.NextBytes(data);
                inputs[i] = new U8Tensor(c, h, w, rng.Next(2) * 128, data);
                cin += c;
            }

            sbyte[] weight = Enumerable.Range(0, o * cin * k * k).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
            int[] bias = Enumerable.Range(0, o).Select(_ => rng.Next(-1_000_000, 1_000_000)).ToArray();
            int[] mult = Enumerable.Range(0, o).Select(_ => rng.Next(1 << 30, int.MaxValue)).ToArray();
            int[] shift = Enumerable.Range(0, o).Select(_ => rng.Next(30, 45)).ToArray();
            bool u8 = rng.Next(2) == 0;
            int zp = rng.Next(2) * 128;
            (int lo, int hi) = u8 ? (rng.Next(0, 50), rng.Next(200, 256)) : (-(1 << 20), 1 << 20);
            var node = new ConvNode(Enumerable.Range(0, inputs.Length).Select(i => $"x{i}").ToArray(), "y", weight, o, cin, k, bias, mult, shift,
                u8, zp, lo, hi, d2s ? 2 : 0);

            long[,,] expected = Naive(inputs, weight, o, cin, k, bias, mult, shift, zp, lo, hi, d2s);
            foreach (int dop in new[] { 1, 2 })
            {
                Tensor actual = node.Execute(inputs, 0, dop);
                Assert.Equal(expected.GetLength(0), actual.Channels);
                Assert.Equal(expected.GetLength(1), actual.Height);
                Assert.Equal(expected.GetLength(2), actual.Width);
                for (int c = 0; c < actual.Channels; c++)
                {
                    for (int y = 0; y < actual.Height; y++)
                    {
                        for (int x = 0; x < actual.Width; x++)
                        {
                            int i = (c * actual.Height + y) * actual.Width + x;
                            long v = actual is U8Tensor b ? b.Data[i] : ((I32Tensor)actual).Data[i];
                            Assert.Equal(expected[c, y, x], v);
                        }
                    }
                }
            }
        }
    }

    /// <summary>docs/model-pack.md, conv, literally: one output element at a time, every index bounds-checked.</summary>
    private static long[,,] Naive(U8Tensor[] inputs, sbyte[] weight, int o, int cin, int k, int[] bias, int[] mult, int[] shift,
        int zp, int lo, int hi, bool d2s)
    {
        int h = inputs[0].Height, w = inputs[0].Width, p = k / 2;
        int XPad(int c, int y, int x)
        {
            foreach (U8Tensor t in inputs)
            {
                if (c < t.Channels)
                {
                    return y < 0 || y >= h || x < 0 || x >= w ? t.ZeroPoint : t.Data[(c * h + y) * w + x];
                }

                c -= t.Channels;
            }

            throw new InvalidOperationException();
        }

        var flat = new long[o, h, w];
        for (int oc = 0; oc < o; oc++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    long acc = bias[oc];
                    for (int c = 0; c < cin; c++)
                    {
                        for (int dy = 0; dy < k; dy++)
                        {
                            for (int dx = 0; dx < k; dx++)
                            {
                                acc += (long)XPad(c, y + dy - p, x + dx - p) * weight[((oc * cin + c) * k + dy) * k + dx];
                            }
                        }
                    }

                    long r = (acc * mult[oc] + (1L << (shift[oc] - 1))) >> shift[oc];
                    flat[oc, y, x] = Math.Clamp(zp + r, lo, hi);
                }
            }
        }

        if (!d2s)
        {
            return flat;
        }

        var result = new long[o / 4, 2 * h, 2 * w];
        for (int c = 0; c < o / 4; c++)
        {
            for (int y = 0; y < 2 * h; y++)
            {
                for (int x = 0; x < 2 * w; x++)
                {
                    result[c, y, x] = flat[4 * c + 2 * (y % 2) + (x % 2), y / 2, x / 2];
                }
            }
        }

        return result;
    }
}
