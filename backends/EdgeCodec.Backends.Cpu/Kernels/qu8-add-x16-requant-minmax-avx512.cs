namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The <c>add</c> op on Vector512 (AVX-512: vpmullq, vpsraq), 16 elements per step, exact int64 arithmetic through the portable vector API (whose
/// integer operations are defined as wrapping, like the reference); the tail goes through <see cref="QU8AddScalar"/>.
/// </summary>
internal static unsafe class QU8AddVector512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(byte* a, byte* b, byte* dst, int n, in AddParams p)
    {
        Vector512<long> ma = Vector512.Create((long)p.MultA), mb = Vector512.Create((long)p.MultB);
        Vector512<long> round = Vector512.Create(1L << (p.Shift - 1)), zp = Vector512.Create((long)p.Zp);
        Vector512<long> lo = Vector512.Create((long)p.Lo), hi = Vector512.Create((long)p.Hi);
        Vector512<int> zpa = Vector512.Create(p.ZpA), zpb = Vector512.Create(p.ZpB);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            (Vector512<long> a0, Vector512<long> a1) = Vector512.Widen(Load(a + i) - zpa);
            (Vector512<long> b0, Vector512<long> b1) = Vector512.Widen(Load(b + i) - zpb);
            Vector512<long> t0 = Vector512.ShiftRightArithmetic((a0 * ma) + (b0 * mb) + round, p.Shift) + zp;
            Vector512<long> t1 = Vector512.ShiftRightArithmetic((a1 * ma) + (b1 * mb) + round, p.Shift) + zp;
            Vector512<int> r = Vector512.Narrow(Vector512.Min(Vector512.Max(t0, lo), hi), Vector512.Min(Vector512.Max(t1, lo), hi));
            Avx512F.ConvertToVector128Byte(r).Store(dst + i);
        }

        QU8AddScalar.Run(a + i, b + i, dst + i, n - i, p);
    }

    /// <summary>16 bytes zero-extended to int32 lanes (<c>vpmovzxbd</c>).</summary>
    private static Vector512<int> Load(byte* s) => Avx512F.ConvertToVector512Int32(Vector128.Load(s));
}
