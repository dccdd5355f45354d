namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// Requantisation of 16 int32 accumulators with AVX-512: <c>vpmuldq</c> (exact signed 32×32→64; acc and mult are both
/// int32), wrapping 64-bit add of the folded bias and rounding constant, <c>vpsravq</c> (per-lane arithmetic shift),
/// 64-bit clamp, truncating narrow (the value is already inside the int32 clamp range).
/// </summary>
internal unsafe struct RequantAvx512 : IRequant16
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16(int* acc, RequantParams* prm, int p, int* vals)
    {
        (Vector512<long> a0, Vector512<long> a1) = Vector512.Widen(Vector512.Load(acc));
        Vector512<long> zp = Vector512.Create((long)prm->Zp), lo = Vector512.Create((long)prm->Lo), hi = Vector512.Create((long)prm->Hi);
        Vector512<long> t0 = Avx512F.Multiply(a0.AsInt32(), Vector512.Load(prm->Mult + p).AsInt32()) + Vector512.Load(prm->BiasRound + p);
        Vector512<long> t1 = Avx512F.Multiply(a1.AsInt32(), Vector512.Load(prm->Mult + p + 8).AsInt32()) + Vector512.Load(prm->BiasRound + p + 8);
        t0 = Avx512F.ShiftRightArithmeticVariable(t0, Vector512.Load(prm->Shift + p)) + zp;
        t1 = Avx512F.ShiftRightArithmeticVariable(t1, Vector512.Load(prm->Shift + p + 8)) + zp;
        t0 = Vector512.Min(Vector512.Max(t0, lo), hi);
        t1 = Vector512.Min(Vector512.Max(t1, lo), hi);
        Vector512.Narrow(t0, t1).Store(vals);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StoreBytes16(int* vals, byte* dst) => Avx512F.ConvertToVector128Byte(Vector512.Load(vals)).Store(dst);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16Entry(int* acc, RequantParams* prm, int p, int* vals) => Requant16(acc, prm, p, vals);
}
