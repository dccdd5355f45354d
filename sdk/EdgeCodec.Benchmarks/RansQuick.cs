using EdgeCodec.Tests.Entropy;
using System.Diagnostics;
using EdgeCodec.Entropy;

namespace EdgeCodec.Benchmarks;

/// <summary>Stopwatch measurement of rANS throughput, for quick iterations when BenchmarkDotNet is too slow.</summary>
internal static class RansQuick
{
    /// <param name="symbols">Values to code.</param>
    /// <param name="tableCount">Gaussian tables.</param>
    /// <param name="lanes">1, 2, 4 or 8 lanes, or 0 for the encoder's choice.</param>
    public static int Run(int symbols, int tableCount, int lanes = 0)
    {
        CdfTableSet tables = TestTables.Gaussian(tableCount);
        (int[] values, int[] indices) = TestTables.LatentStream(symbols, seed: 42, tableCount);
        byte[] Encode() => lanes == 0 ? RansCodec.Encode(values, indices, tables) : RansCodec.Encode(values, indices, tables, lanes);
        byte[] encoded = Encode();
        var decoded = new int[symbols];

        (double encodeBest, double encodeCpu) = Best(() => Encode());
        (double decodeBest, double decodeCpu) = Best(() => RansCodec.Decode(encoded, indices, tables, decoded));
        if (!decoded.AsSpan().SequenceEqual(values))
        {
            Console.Error.WriteLine("decode mismatch");
            return 1;
        }

        Console.WriteLine($"rANS {encoded[0]} lanes, {tableCount} Gaussian tables, {symbols} symbols, {encoded.Length * 8.0 / symbols:F3} bits/symbol");
        Console.WriteLine($"encode: {symbols / encodeBest / 1e6,8:F1} M symbols/s wall, {symbols / encodeCpu / 1e6,8:F1} M symbols/s CPU time (best of 15)");
        Console.WriteLine($"decode: {symbols / decodeBest / 1e6,8:F1} M symbols/s wall, {symbols / decodeCpu / 1e6,8:F1} M symbols/s CPU time (best of 15)");
        return 0;
    }

    internal static (double Wall, double Cpu) Best(Action action)
    {
        for (int i = 0; i < 5; i++)
        {
            action(); // warm-up and tiered JIT promotion
        }

        // The machine may be shared (a training job runs beside us), so report the best of 15 in both wall-clock
        // and process CPU time; CPU time excludes time the scheduler gave to other processes.
        double best = double.MaxValue;
        double bestCpu = double.MaxValue;
        using var process = Process.GetCurrentProcess();
        for (int i = 0; i < 15; i++)
        {
            process.Refresh();
            TimeSpan cpu0 = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            process.Refresh();
            bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu0).TotalSeconds);
        }

        return (best, bestCpu);
    }
}
