using BenchmarkDotNet.Running;
using EdgeCodec.Benchmarks;

// "rans-quick [symbols] [tables] [lanes]" prints a Stopwatch measurement; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "rans-quick")
{
    int symbols = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1 << 22;
    int tables = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 64;
    int lanes = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0;
    return RansQuick.Run(symbols, tables, lanes);
}

// "yuv-quick [width] [height]": YUV <-> RGB conversion, Stopwatch.
if (args.Length > 0 && args[0] == "yuv-quick")
{
    int width = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1920;
    int height = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1080;
    return YuvQuick.Run(width, height);
}

BenchmarkSwitcher.FromAssembly(typeof(RansBenchmarks).Assembly).Run(args);
return 0;
