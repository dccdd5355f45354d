using System.Diagnostics;
using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Check;

/// <summary>
/// Time per synthesis step (conv, add) of the CPU engine on one latent window, per kernel path: where the synthesis
/// time goes and how many GMAC/s each conv reaches. A benchmark, not a test.
/// </summary>
internal static class Profile
{
    public static int Run(ModelPack pack, IEnumerable<CpuIsa> isas, int height, int width, int threads, int repeat)
    {
        var rng = new Random(7);
        byte[] yq = new byte[pack.Layout.LatentChannels * height * width];
        for (int i = 0; i < yq.Length; i++)
        {
            yq[i] = (byte)(128 + rng.Next(-6, 7));
        }

        byte[] rgb = new byte[height * 16 * width * 16 * 3];
        Console.WriteLine($"window {height}x{width} latents ({height * 16}x{width * 16} px), {threads} thread(s), best of {repeat}");
        foreach (KernelTable table in isas.SelectMany(i => new[] { KernelTable.For(i), KernelTable.For(i).Direct }).Distinct())
        {
            string isa = table.Isa + (table.HasWinograd ? " (Winograd 3x3)" : " (direct)");
            using var synthesis = CpuSynthesis.Create(pack, table, threads);
            synthesis.Synthesize(yq, height, width, rgb);
            synthesis.Synthesize(yq, height, width, rgb);
            var steps = synthesis.Describe().ToList();
            double[] best = Enumerable.Repeat(double.MaxValue, steps.Count).ToArray();
            double bestTotal = double.MaxValue;
            for (int r = 0; r < repeat; r++)
            {
                synthesis.StepTicks = new long[steps.Count];
                long t0 = Stopwatch.GetTimestamp();
                synthesis.Synthesize(yq, height, width, rgb);
                bestTotal = Math.Min(bestTotal, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                for (int i = 0; i < steps.Count; i++)
                {
                    best[i] = Math.Min(best[i], synthesis.StepTicks[i] * 1e3 / Stopwatch.Frequency);
                }
            }

            long macs = steps.Sum(s => s.Macs);
            Console.WriteLine($"{isa}: total {bestTotal:F2} ms, {macs / 1e9:F3} GMAC, {macs / bestTotal / 1e6:F1} GMAC/s");
            for (int i = 0; i < steps.Count; i++)
            {
                string rate = steps[i].Macs > 0 ? $"{steps[i].Macs / best[i] / 1e6,7:F1} GMAC/s" : string.Empty;
                Console.WriteLine($"  {steps[i].Label,-44} {best[i],8:F2} ms {rate}");
            }
        }

        return 0;
    }
}
