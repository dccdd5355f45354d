using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>One requantisation width (TensorPrimitives style: the operation per ISA, one shared driver).</summary>
internal unsafe interface IRequant16
{
    /// <summary>
    /// <c>vals[l] = clamp(zp + ((acc[l]·mult + biasRound) &gt;&gt; shift), lo, hi)</c> for the 16 packed channels
    /// <c>p .. p+15</c>, in wrapping int64 exactly as <c>IntegerMath.Requant</c>.
    /// </summary>
    static abstract void Requant16(int* acc, RequantParams* prm, int p, int* vals);

    /// <summary>Stores 16 ints known to be within 0..255 as bytes.</summary>
    static abstract void StoreBytes16(int* vals, byte* dst);
}

/// <summary>The shared requantise-and-store driver of every conv path.</summary>
internal static unsafe class RequantStore
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(ref StoreArgs a)
        where T : struct, IRequant16
    {
        int* vals = stackalloc int[ConvGeometry.Block];
        for (int px = 0; px < a.Pixels; px++)
        {
            int* acc = a.Acc + (px * ConvGeometry.TileChannels);
            for (int b = 0; b < a.Blocks; b++)
            {
                int p = a.P0 + (b * ConvGeometry.Block);
                T.Requant16(acc + (b * ConvGeometry.Block), a.Params, p, vals);
                int n = Math.Min(ConvGeometry.Block, a.OutChannels - p);
                int* offsets = a.ChanOffset + p;
                if (a.U8)
                {
                    byte* dst = a.Dst + ((long)px * a.XStep);
                    if (n == ConvGeometry.Block && a.Contiguous[p / ConvGeometry.Block] != 0)
                    {
                        T.StoreBytes16(vals, dst + offsets[0]);
                    }
                    else
                    {
                        for (int l = 0; l < n; l++)
                        {
                            dst[offsets[l]] = (byte)vals[l];
                        }
                    }
                }
                else
                {
                    int* dst = (int*)a.Dst + ((long)px * a.XStep);
                    for (int l = 0; l < n; l++)
                    {
                        dst[offsets[l]] = vals[l];
                    }
                }
            }
        }
    }

    /// <summary>Narrowing store shared by the vector paths (values are already clamped into 0..255).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBytes16Vector128(int* vals, byte* dst)
    {
        Vector128<ushort> lo = Vector128.Narrow(Vector128.Load((uint*)vals), Vector128.Load((uint*)vals + 4));
        Vector128<ushort> hi = Vector128.Narrow(Vector128.Load((uint*)vals + 8), Vector128.Load((uint*)vals + 12));
        Vector128.Narrow(lo, hi).Store(dst);
    }
}
