namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;

using EdgeCodec.Backends.Cpu.Engine;

/// <summary>Requantisation of 16 int32 accumulators, portable scalar (the spec's formula, lane by lane).</summary>
internal unsafe struct RequantScalar : IRequant16
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16(int* acc, RequantParams* prm, int p, int* vals)
    {
        for (int l = 0; l < 16; l++)
        {
            long t = unchecked(((long)acc[l] * prm->Mult[p + l]) + prm->BiasRound[p + l]) >> (int)prm->Shift[p + l];
            t = unchecked(t + prm->Zp);
            vals[l] = (int)(t < prm->Lo ? prm->Lo : t > prm->Hi ? prm->Hi : t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StoreBytes16(int* vals, byte* dst)
    {
        for (int l = 0; l < 16; l++)
        {
            dst[l] = (byte)vals[l];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Requant16Entry(int* acc, RequantParams* prm, int p, int* vals) => Requant16(acc, prm, p, vals);
}
