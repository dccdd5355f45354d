using BenchmarkDotNet.Running;
using EdgeCodec.Benchmarks;

// "rans-quick [symbols] [tables]" prints a Stopwatch measurement; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "rans-quick")
{
    int symbols = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1 << 22;
    int tables = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 64;
    return RansQuick.Run(symbols, tables);
}

BenchmarkSwitcher.FromAssembly(typeof(RansBenchmarks).Assembly).Run(args);
return 0;
