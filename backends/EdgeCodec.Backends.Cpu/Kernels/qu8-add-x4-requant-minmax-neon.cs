namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The <c>add</c> op on Vector128 (Arm64 AdvSimd; .NET emulates the 64-bit multiply exactly), 4 elements per step, exact int64 arithmetic through the portable vector API (whose
/// integer operations are defined as wrapping, like the reference); the tail goes through <see cref="QU8AddScalar"/>.
/// </summary>
internal static unsafe class QU8AddVector128
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(byte* a, byte* b, byte* dst, int n, in AddParams p)
    {
        Vector128<long> ma = Vector128.Create((long)p.MultA), mb = Vector128.Create((long)p.MultB);
        Vector128<long> round = Vector128.Create(1L << (p.Shift - 1)), zp = Vector128.Create((long)p.Zp);
        Vector128<long> lo = Vector128.Create((long)p.Lo), hi = Vector128.Create((long)p.Hi);
        Vector128<int> zpa = Vector128.Create(p.ZpA), zpb = Vector128.Create(p.ZpB);
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            (Vector128<long> a0, Vector128<long> a1) = Vector128.Widen(Load(a + i) - zpa);
            (Vector128<long> b0, Vector128<long> b1) = Vector128.Widen(Load(b + i) - zpb);
            Vector128<long> t0 = Vector128.ShiftRightArithmetic((a0 * ma) + (b0 * mb) + round, p.Shift) + zp;
            Vector128<long> t1 = Vector128.ShiftRightArithmetic((a1 * ma) + (b1 * mb) + round, p.Shift) + zp;
            Vector128<int> r = Vector128.Narrow(Vector128.Min(Vector128.Max(t0, lo), hi), Vector128.Min(Vector128.Max(t1, lo), hi));
            for (int l = 0; l < 4; l++)
            {
                dst[i + l] = (byte)r.GetElement(l);
            }
        }

        QU8AddScalar.Run(a + i, b + i, dst + i, n - i, p);
    }

    /// <summary>4 bytes zero-extended to int32 lanes.</summary>
    private static Vector128<int> Load(byte* s)
    {
        int* tmp = stackalloc int[4];
        for (int l = 0; l < 4; l++)
        {
            tmp[l] = s[l];
        }

        return Vector128.Load(tmp);
    }
}
