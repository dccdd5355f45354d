using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCodec.Backends.Cpu.Check;

/// <summary>
/// Peak of the dot-product instruction the engine uses (<c>vpdpbusd ymm</c>, AVX-VNNI): back-to-back on registers,
/// 12 independent accumulators (enough to hide the latency), one thread. A benchmark, not a test.
/// </summary>
internal static unsafe class Peak
{
    public static int Run()
    {
        if (Avx512BW.IsSupported)
        {
            // The Avx512Bw path's multiply: vpmaddwd zmm (32 int16 products, pairwise added into 16 int32).
            Report("vpmaddwd zmm", 32, &LoopMaddwd);
        }

        if (!AvxVnni.IsSupported)
        {
            Console.WriteLine("AVX-VNNI not supported here (for an AVX512-VNNI peak, which .NET cannot reach, see native/vnni-peak.c)");
            return 0;
        }

        // vpdpbusd ymm: 8 lanes × 4 products each.
        Report("vpdpbusd ymm", 32, &Loop);
        return 0;
    }

    /// <summary>Best of 5 runs of a loop of 12 instructions per iteration, each doing <paramref name="macs"/> multiply-adds.</summary>
    private static unsafe void Report(string name, int macs, delegate*<long, int> loop)
    {
        const long Iterations = 50_000_000;
        loop(1000);
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            var sw = Stopwatch.StartNew();
            int sink = loop(Iterations);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
            GC.KeepAlive(sink);
        }

        Console.WriteLine($"{name}: {Iterations * 12 / best / 1e9:F2} G instr/s, {Iterations * 12.0 * macs / best / 1e9:F1} GMAC/s per core (best of 5, {best * 1e3:F0} ms)");
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Loop(long n)
    {
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        Vector256<byte> x = Vector256.Create((byte)3);
        Vector256<sbyte> w = Vector256.Create((sbyte)-5);
        for (long i = 0; i < n; i++)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, w);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, w);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, w);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, w);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, x, w);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, x, w);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, x, w);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, x, w);
            a8 = AvxVnni.MultiplyWideningAndAdd(a8, x, w);
            a9 = AvxVnni.MultiplyWideningAndAdd(a9, x, w);
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, x, w);
            a11 = AvxVnni.MultiplyWideningAndAdd(a11, x, w);
        }

        Vector256<int> s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return s.ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int LoopMaddwd(long n)
    {
        // Each vpmaddwd consumes its own previous result (12 independent chains), so none can be hoisted out of the
        // loop as invariant; the engine's vpaddd per vpmaddwd runs on other ports and is not the limit.
        Vector512<int> a0 = Vector512.Create(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        Vector512<short> w = Vector512.Create((short)-5);
        for (long i = 0; i < n; i++)
        {
            a0 = Avx512BW.MultiplyAddAdjacent(a0.AsInt16(), w);
            a1 = Avx512BW.MultiplyAddAdjacent(a1.AsInt16(), w);
            a2 = Avx512BW.MultiplyAddAdjacent(a2.AsInt16(), w);
            a3 = Avx512BW.MultiplyAddAdjacent(a3.AsInt16(), w);
            a4 = Avx512BW.MultiplyAddAdjacent(a4.AsInt16(), w);
            a5 = Avx512BW.MultiplyAddAdjacent(a5.AsInt16(), w);
            a6 = Avx512BW.MultiplyAddAdjacent(a6.AsInt16(), w);
            a7 = Avx512BW.MultiplyAddAdjacent(a7.AsInt16(), w);
            a8 = Avx512BW.MultiplyAddAdjacent(a8.AsInt16(), w);
            a9 = Avx512BW.MultiplyAddAdjacent(a9.AsInt16(), w);
            a10 = Avx512BW.MultiplyAddAdjacent(a10.AsInt16(), w);
            a11 = Avx512BW.MultiplyAddAdjacent(a11.AsInt16(), w);
        }

        Vector512<int> s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return s.ToScalar();
    }
}
