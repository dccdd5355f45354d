using System.Diagnostics;

namespace EdgeCodec.Fuzz;

/// <summary>
/// Bounded in-process mutation fuzzing with a seeded RNG, for CI: no coverage feedback, but every target's input
/// sequence is reproducible from the seed (each target has its own generator), and a failure leaves the offending
/// input on disk. Targets share the time equally: the next input goes to the target that has used the least, so a
/// slow target (a whole model pack) does not starve the fast ones (a packet).
/// </summary>
internal static class SmokeFuzzer
{
    public static int Run(IReadOnlyList<string> targets, double seconds, int seed)
    {
        var rngs = targets.Select((t, i) => new Random(seed + (7919 * i))).ToArray();
        var seeds = targets.Select(Seeds.For).ToArray();
        var iterations = new long[targets.Count];
        var used = new long[targets.Count];
        int failures = 0;
        var clock = Stopwatch.StartNew();
        long slowestTicks = 0;
        while (clock.Elapsed.TotalSeconds < seconds && failures < 10)
        {
            int t = Array.IndexOf(used, used.Min());
            string target = targets[t];
            Random rng = rngs[t];
            byte[] input = rng.Next(8) == 0 ? RandomBytes(rng) : Mutate(rng, seeds[t][rng.Next(seeds[t].Count)]);
            long start = Stopwatch.GetTimestamp();
            try
            {
                FuzzTargets.All[target](input);
            }
#pragma warning disable CA1031 // Any exception other than EdgeCodecFormatException (caught inside the target) is a finding.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures++;
                string path = Path.Combine(Path.GetTempPath(), $"edgecodec-fuzz-{target}-{failures}.bin");
                File.WriteAllBytes(path, input);
                Console.WriteLine($"FAIL {target}: {e.GetType().Name}: {e.Message} (input saved to {path})");
                Console.WriteLine(string.Join(Environment.NewLine, (e.StackTrace ?? "").Split('\n').Take(4)));
            }

            long ticks = Stopwatch.GetTimestamp() - start;
            slowestTicks = Math.Max(slowestTicks, ticks);
            used[t] += ticks + 1; // + 1: a target too fast for the clock still moves on
            iterations[t]++;
        }

        for (int t = 0; t < targets.Count; t++)
        {
            Console.WriteLine($"{targets[t],-12} {iterations[t],10} iterations");
        }

        double slowestMs = slowestTicks * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"seed {seed}, {clock.Elapsed.TotalSeconds:F1} s, slowest input {slowestMs:F1} ms, {failures} failure(s)");
        if (slowestMs > 1000)
        {
            Console.WriteLine("FAIL: an input took more than 1 s (possible hang).");
            failures++;
        }

        return failures == 0 ? 0 : 1;
    }

    private static byte[] RandomBytes(Random rng)
    {
        var data = new byte[rng.Next(0, 512)];
        rng.NextBytes(data);
        return data;
    }

    private static byte[] Mutate(Random rng, byte[] seed)
    {
        var data = new List<byte>(seed);
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = data.Count == 0 ? 0 : rng.Next(data.Count);
            switch (rng.Next(6))
            {
                case 0 when data.Count > 0: data[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1 when data.Count > 0: data[at] = (byte)rng.Next(256); break;
                case 2: data.Insert(at, (byte)rng.Next(256)); break;
                case 3 when data.Count > 0: data.RemoveAt(at); break;
                case 4: data.RemoveRange(at, data.Count - at); break;
                default: if (data.Count > 0) { data[at] = (byte)(new byte[] { 0, 0x7F, 0x80, 0xFF })[rng.Next(4)]; } break;
            }
        }

        return [.. data];
    }
}
