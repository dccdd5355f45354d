using EdgeCodec.Imaging;

namespace EdgeCodec.Backends.Cpu.Check;

/// <summary>
/// The core SDK's YUV → RGB vector kernel against its scalar reference, run by the check tool wherever it runs: in child
/// processes with intrinsics switched off, and on Arm64 (NEON) under qemu, which the core tests do not reach.
/// </summary>
internal static class YuvConformance
{
    /// <summary>Random and extreme rows of many widths in every colour space; returns the mismatches.</summary>
    public static List<string> Compare(int seed, int rows)
    {
        var found = new List<string>();
        var random = new Random(seed);
        byte[] extremes = [0, 1, 15, 16, 17, 127, 128, 129, 234, 235, 236, 240, 241, 254, 255];
        foreach (var space in Enum.GetValues<YuvColorSpace>())
        {
            var c = YuvCoefficients.For(space);
            for (int r = 0; r < rows; r++)
            {
                int width = r < 64 ? r + 1 : random.Next(1, 2000);
                byte[] y = new byte[width], u = new byte[(width + 1) / 2], v = new byte[(width + 1) / 2];
                random.NextBytes(y);
                random.NextBytes(u);
                random.NextBytes(v);
                if (r % 2 == 1)
                {
                    for (int i = 0; i < width; i++)
                    {
                        y[i] = extremes[random.Next(extremes.Length)];
                        u[i / 2] = extremes[random.Next(extremes.Length)];
                        v[i / 2] = extremes[random.Next(extremes.Length)];
                    }
                }

                byte[] reference = new byte[3 * width], vector = new byte[3 * width], dispatched = new byte[3 * width];
                YuvRowKernels.ToRgbScalar(y, u, v, reference, c);
                int done = YuvRowKernels.ToRgbVector(y, u, v, vector, c);
                YuvRowKernels.ToRgbScalar(y.AsSpan(done), u.AsSpan(done / 2), v.AsSpan(done / 2), vector.AsSpan(3 * done), c);
                YuvRowKernels.ToRgb(y, u, v, dispatched, c);
                if (!reference.AsSpan().SequenceEqual(vector) || !reference.AsSpan().SequenceEqual(dispatched))
                {
                    found.Add($"yuv {space} row of {width}: the vector kernel differs from the scalar reference");
                }
            }
        }

        return found;
    }
}
