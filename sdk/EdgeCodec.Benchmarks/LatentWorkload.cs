using EdgeCodec.Entropy;

namespace EdgeCodec.Benchmarks;

/// <summary>Deterministic table sets and symbol streams shaped like quantized latents (a copy of the test helper, so benchmarks measure what tests verify).</summary>
internal static class LatentWorkload
{
    /// <summary>64 Gaussian tables, scales log-spaced 0.11..30, widths 3..~243 symbols, like a hyperprior scale table.</summary>
    public static CdfTableSet Gaussian(int tableCount = 64)
    {
        var cdfs = new List<int[]>();
        var offsets = new List<int>();
        for (int t = 0; t < tableCount; t++)
        {
            double sigma = Scale(t, tableCount);
            int half = (int)Math.Ceiling(sigma * 4) + 1;
            var weights = new long[(2 * half) + 2];
            for (int k = -half; k <= half; k++)
            {
                weights[k + half] = (long)(1e9 * Math.Exp(-0.5 * k * k / (sigma * sigma)));
            }

            weights[^1] = 1000; // escape
            cdfs.Add(CdfTableSet.QuantizePmf(weights));
            offsets.Add(-half);
        }

        return CdfTableSet.Create(cdfs, offsets);
    }

    public static double Scale(int t, int tableCount) =>
        Math.Exp(Math.Log(0.11) + ((Math.Log(30) - Math.Log(0.11)) * t / Math.Max(1, tableCount - 1)));

    /// <summary>Values drawn from N(0, sigma_t) for a uniformly drawn table t, rounded.</summary>
    public static (int[] Values, int[] Tables) LatentStream(int count, int seed, int tableCount = 64)
    {
        var rng = new Random(seed);
        var values = new int[count];
        var tables = new int[count];
        for (int i = 0; i < count; i++)
        {
            int t = rng.Next(tableCount);
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            tables[i] = t;
            values[i] = (int)Math.Round(g * Scale(t, tableCount));
        }

        return (values, tables);
    }

    /// <summary>A random valid table set (random weights, random offsets, 1..maxSymbols direct symbols).</summary>
    public static CdfTableSet Random(Random rng, int tableCount, int maxSymbols)
    {
        var cdfs = new List<int[]>();
        var offsets = new List<int>();
        for (int t = 0; t < tableCount; t++)
        {
            int n = rng.Next(1, maxSymbols + 1);
            var weights = new long[n + 1];
            int shape = rng.Next(3);
            for (int i = 0; i <= n; i++)
            {
                weights[i] = shape switch
                {
                    0 => rng.NextInt64(0, 1000),
                    1 => rng.Next(10) == 0 ? rng.NextInt64(0, long.MaxValue / 8192) : 0,
                    _ => 1L << rng.Next(0, 40),
                };
            }

            cdfs.Add(CdfTableSet.QuantizePmf(weights));
            offsets.Add(rng.Next(-1000, 1000));
        }

        return CdfTableSet.Create(cdfs, offsets);
    }
}
