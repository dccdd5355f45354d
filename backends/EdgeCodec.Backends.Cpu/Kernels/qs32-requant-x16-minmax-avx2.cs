namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// Requantisation of 16 int32 accumulators with AVX2: <c>vpmuldq</c> (exact signed 32×32→64), wrapping 64-bit add,
/// arithmetic 64-bit shift built from the logical <c>vpsrlvq</c> (AVX2 has no <c>vpsravq</c>):
/// <c>x &gt;&gt; s == ((x ^ m) &gt;&gt;&gt; s) ^ m</c> with <c>m = x &lt; 0 ? -1 : 0</c>, exact for 0 ≤ s ≤ 63.
/// </summary>
internal unsafe struct RequantAvx2 : IRequant16
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16(int* acc, RequantParams* prm, int p, int* vals)
    {
        Vector256<long> zp = Vector256.Create((long)prm->Zp), lo = Vector256.Create((long)prm->Lo), hi = Vector256.Create((long)prm->Hi);
        for (int h = 0; h < 16; h += 8)
        {
            (Vector256<long> a0, Vector256<long> a1) = Vector256.Widen(Vector256.Load(acc + h));
            Vector256<long> t0 = Lane(a0, prm, p + h, zp, lo, hi);
            Vector256<long> t1 = Lane(a1, prm, p + h + 4, zp, lo, hi);
            Vector256.Narrow(t0, t1).Store(vals + h);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StoreBytes16(int* vals, byte* dst) => RequantStore.StoreBytes16Vector128(vals, dst);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16Entry(int* acc, RequantParams* prm, int p, int* vals) => Requant16(acc, prm, p, vals);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Lane(Vector256<long> a, RequantParams* prm, int p, Vector256<long> zp, Vector256<long> lo, Vector256<long> hi)
    {
        Vector256<long> t = Avx2.Multiply(a.AsInt32(), Vector256.Load(prm->Mult + p).AsInt32()) + Vector256.Load(prm->BiasRound + p);
        Vector256<long> m = Avx2.CompareGreaterThan(Vector256<long>.Zero, t);
        t = Avx2.ShiftRightLogicalVariable(t ^ m, Vector256.Load(prm->Shift + p)) ^ m;
        t += zp;
        t = Avx2.BlendVariable(t, lo, Avx2.CompareGreaterThan(lo, t));
        return Avx2.BlendVariable(t, hi, Avx2.CompareGreaterThan(t, hi));
    }
}
