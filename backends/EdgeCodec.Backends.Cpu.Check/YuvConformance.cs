using EdgeCodec.Imaging;

namespace EdgeCodec.Backends.Cpu.Check;

/// <summary>
/// The core SDK's YUV ↔ RGB vector kernels against their scalar references, run by the check tool wherever it runs: in child
/// processes with intrinsics switched off, and on Arm64 (NEON) under qemu, which the core tests do not reach.
/// </summary>
internal static class YuvConformance
{
    /// <summary>Random and extreme rows of many widths in every colour space, both ways; returns the mismatches.</summary>
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

                // And back: the RGB rows just made (clamped colours included) and the next row to Y, U and V.
                byte[] below = new byte[3 * width];
                random.NextBytes(below);
                byte[] yRef = new byte[width], yVec = new byte[width], uRef = new byte[u.Length], vRef = new byte[u.Length], uVec = new byte[u.Length], vVec = new byte[u.Length];
                RgbToYuvKernels.LumaScalar(reference, yRef, c);
                RgbToYuvKernels.Luma(reference, yVec, c);
                int lumaDone = RgbToYuvKernels.LumaVector(reference, y, c); // y is free now: the vector kernel alone
                RgbToYuvKernels.LumaScalar(reference.AsSpan(3 * lumaDone), y.AsSpan(lumaDone), c);
                RgbToYuvKernels.ChromaScalar(reference, below, uRef, vRef, c);
                int chromaDone = RgbToYuvKernels.ChromaVector(reference, below, uVec, vVec, c);
                RgbToYuvKernels.ChromaScalar(reference.AsSpan(3 * chromaDone), below.AsSpan(3 * chromaDone), uVec.AsSpan(chromaDone / 2), vVec.AsSpan(chromaDone / 2), c);
                bool chromaSame = uRef.AsSpan().SequenceEqual(uVec) && vRef.AsSpan().SequenceEqual(vVec);
                RgbToYuvKernels.Chroma(reference, below, uVec, vVec, c);
                if (!yRef.AsSpan().SequenceEqual(yVec) || !yRef.AsSpan().SequenceEqual(y) || !chromaSame
                    || !uRef.AsSpan().SequenceEqual(uVec) || !vRef.AsSpan().SequenceEqual(vVec))
                {
                    found.Add($"rgb->yuv {space} row of {width}: a vector kernel differs from the scalar reference");
                }

                // The byte moves around the kernels: NV chroma pairs and YUYV rows, split and merged, vector path against reference.
                int pairs = u.Length;
                byte[] nv = new byte[2 * pairs], yuyv = new byte[4 * pairs], nvVec = new byte[2 * pairs], yuyvVec = new byte[4 * pairs];
                ChromaInterleave.MergeScalar(uRef, vRef, nv);
                int merged = ChromaInterleave.MergeVector(uRef, vRef, nvVec);
                ChromaInterleave.MergeScalar(uRef.AsSpan(merged), vRef.AsSpan(merged), nvVec.AsSpan(2 * merged));
                byte[] luma = [.. yRef, .. yRef.AsSpan(0, (2 * pairs) - width)];
                ChromaInterleave.MergeYuyvScalar(luma, uRef, vRef, yuyv);
                merged = ChromaInterleave.MergeYuyvVector(luma, uRef, vRef, yuyvVec);
                ChromaInterleave.MergeYuyvScalar(luma.AsSpan(2 * merged), uRef.AsSpan(merged), vRef.AsSpan(merged), yuyvVec.AsSpan(4 * merged));
                byte[] first = new byte[pairs], second = new byte[pairs], lumaBack = new byte[2 * pairs];
                int split = ChromaInterleave.SplitVector(nv, first, second);
                ChromaInterleave.SplitScalar(nv.AsSpan(2 * split), first.AsSpan(split), second.AsSpan(split));
                bool nvSame = nv.AsSpan().SequenceEqual(nvVec) && first.AsSpan().SequenceEqual(uRef) && second.AsSpan().SequenceEqual(vRef);
                split = ChromaInterleave.SplitYuyvVector(yuyv, lumaBack, first, second);
                ChromaInterleave.SplitYuyvScalar(yuyv.AsSpan(4 * split), lumaBack.AsSpan(2 * split), first.AsSpan(split), second.AsSpan(split));
                if (!nvSame || !yuyv.AsSpan().SequenceEqual(yuyvVec) || !lumaBack.AsSpan().SequenceEqual(luma)
                    || !first.AsSpan().SequenceEqual(uRef) || !second.AsSpan().SequenceEqual(vRef))
                {
                    found.Add($"chroma interleave {space}, {pairs} pairs: a vector path differs from the scalar reference");
                }
            }
        }

        return found;
    }
}
