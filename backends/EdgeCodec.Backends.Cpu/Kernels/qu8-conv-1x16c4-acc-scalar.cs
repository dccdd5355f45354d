namespace EdgeCodec.Backends.Cpu.Kernels;

using System.Runtime.CompilerServices;

using EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// u8 × s8 conv accumulation, portable scalar, one pixel × 16 output channels at a time, weights
/// <see cref="WeightLayout.S8OcIc"/>. Wrapping int32 sums, like the reference.
/// </summary>
internal static unsafe class QU8ConvScalar
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref ConvTile t)
    {
        int* sum = stackalloc int[ConvGeometry.Block];
        for (int b = 0; b < t.Blocks; b++)
        {
            for (int px = 0; px < t.Pixels; px++)
            {
                for (int l = 0; l < ConvGeometry.Block; l++)
                {
                    sum[l] = t.Init[(b * ConvGeometry.Block) + l];
                }

                sbyte* w = (sbyte*)(t.Weights + ((long)b * t.BlockStride));
                byte* x = t.Input + ((long)px * t.PixelStride);
                for (int tap = 0; tap < t.Taps; tap++)
                {
                    byte* s = x + t.TapOffsets[tap];
                    for (int g = 0; g < t.Groups; g++, s += 4, w += 64)
                    {
                        int x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
                        for (int l = 0; l < ConvGeometry.Block; l++)
                        {
                            sbyte* wl = w + (4 * l);
                            sum[l] = unchecked(sum[l] + (x0 * wl[0]) + (x1 * wl[1]) + (x2 * wl[2]) + (x3 * wl[3]));
                        }
                    }
                }

                int* acc = t.Acc + (px * ConvGeometry.TileChannels) + (b * ConvGeometry.Block);
                for (int l = 0; l < ConvGeometry.Block; l++)
                {
                    acc[l] = sum[l];
                }
            }
        }
    }
}
