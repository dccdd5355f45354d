namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The <c>add</c> op on Vector256 (AVX2; .NET emulates the 64-bit multiply and arithmetic shift exactly), 8 elements per step, exact int64 arithmetic through the portable vector API (whose
/// integer operations are defined as wrapping, like the reference); the tail goes through <see cref="QU8AddScalar"/>.
/// </summary>
internal static unsafe class QU8AddVector256
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(byte* a, byte* b, byte* dst, int n, in AddParams p)
    {
        Vector256<long> ma = Vector256.Create((long)p.MultA), mb = Vector256.Create((long)p.MultB);
        Vector256<long> round = Vector256.Create(1L << (p.Shift - 1)), zp = Vector256.Create((long)p.Zp);
        Vector256<long> lo = Vector256.Create((long)p.Lo), hi = Vector256.Create((long)p.Hi);
        Vector256<int> zpa = Vector256.Create(p.ZpA), zpb = Vector256.Create(p.ZpB);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            (Vector256<long> a0, Vector256<long> a1) = Vector256.Widen(Load(a + i) - zpa);
            (Vector256<long> b0, Vector256<long> b1) = Vector256.Widen(Load(b + i) - zpb);
            Vector256<long> t0 = Vector256.ShiftRightArithmetic((a0 * ma) + (b0 * mb) + round, p.Shift) + zp;
            Vector256<long> t1 = Vector256.ShiftRightArithmetic((a1 * ma) + (b1 * mb) + round, p.Shift) + zp;
            Vector256<int> r = Vector256.Narrow(Vector256.Min(Vector256.Max(t0, lo), hi), Vector256.Min(Vector256.Max(t1, lo), hi));
            Vector128<ushort> h = Vector128.Narrow(r.GetLower().AsUInt32(), r.GetUpper().AsUInt32());
            *(ulong*)(dst + i) = Vector128.Narrow(h, h).AsUInt64().ToScalar();
        }

        QU8AddScalar.Run(a + i, b + i, dst + i, n - i, p);
    }

    /// <summary>8 bytes zero-extended to int32 lanes (<c>vpmovzxbd</c>).</summary>
    private static Vector256<int> Load(byte* s) => Avx2.ConvertToVector256Int32(s);
}
