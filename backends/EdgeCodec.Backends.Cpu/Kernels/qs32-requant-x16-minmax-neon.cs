namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// Requantisation of 16 int32 accumulators with Arm64 AdvSimd: <c>smull</c>/<c>smull2</c> (exact signed 32×32→64),
/// wrapping 64-bit add, <c>sshl</c> by <c>-shift</c> (arithmetic right shift per lane), 64-bit clamp
/// (<c>cmgt</c> + <c>bsl</c>), truncating narrow.
/// </summary>
internal unsafe struct RequantNeon : IRequant16
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16(int* acc, RequantParams* prm, int p, int* vals)
    {
        Vector128<long> zp = Vector128.Create((long)prm->Zp), lo = Vector128.Create((long)prm->Lo), hi = Vector128.Create((long)prm->Hi);
        for (int q = 0; q < 16; q += 4)
        {
            Vector128<int> a = Vector128.Load(acc + q);
            Vector128<int> m = Vector128.Load(prm->Mult32 + p + q);
            Vector128<long> t0 = AdvSimd.MultiplyWideningLower(a.GetLower(), m.GetLower());
            Vector128<long> t1 = AdvSimd.MultiplyWideningUpper(a, m);
            t0 = Finish(t0, prm, p + q, zp, lo, hi);
            t1 = Finish(t1, prm, p + q + 2, zp, lo, hi);
            Vector128.Narrow(t0, t1).Store(vals + q);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StoreBytes16(int* vals, byte* dst) => RequantStore.StoreBytes16Vector128(vals, dst);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16Entry(int* acc, RequantParams* prm, int p, int* vals) => Requant16(acc, prm, p, vals);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<long> Finish(Vector128<long> t, RequantParams* prm, int p, Vector128<long> zp, Vector128<long> lo, Vector128<long> hi)
    {
        t = AdvSimd.ShiftArithmetic(t + Vector128.Load(prm->BiasRound + p), Vector128.Load(prm->NegShift + p)) + zp;
        t = AdvSimd.BitwiseSelect(AdvSimd.Arm64.CompareGreaterThan(lo, t), lo, t);
        return AdvSimd.BitwiseSelect(AdvSimd.Arm64.CompareGreaterThan(t, hi), hi, t);
    }
}
