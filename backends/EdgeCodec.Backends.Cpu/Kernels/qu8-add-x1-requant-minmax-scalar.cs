namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;

using EdgeCodec.Backends.Cpu.Engine;

/// <summary>The <c>add</c> op, portable scalar: <c>clamp(zp + rshift_round((a-zpa)·ma + (b-zpb)·mb, s), lo, hi)</c> in int64.</summary>
internal static unsafe class QU8AddScalar
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(byte* a, byte* b, byte* dst, int n, in AddParams p)
    {
        for (int i = 0; i < n; i++)
        {
            dst[i] = One(a[i], b[i], p);
        }
    }

    public static byte One(int a, int b, in AddParams p)
    {
        long t = unchecked(((long)(a - p.ZpA) * p.MultA) + ((long)(b - p.ZpB) * p.MultB) + (1L << (p.Shift - 1))) >> p.Shift;
        t = unchecked(t + p.Zp);
        return (byte)(t < p.Lo ? p.Lo : t > p.Hi ? p.Hi : t);
    }
}
