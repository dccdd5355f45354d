using System.Globalization;
using EdgeCodec.Fuzz;
using SharpFuzz;

// Usage (see docs/fuzzing.md):
//   <target>                   AFL entry (run under afl-fuzz with an instrumented EdgeCodec.dll)
//   <target> --libfuzzer       libFuzzer entry (run under libfuzzer-dotnet)
//   smoke [--seconds N] [--target all|packet|container|rans|message|adapter|onnxpatch|latents|residual|manifest] [--seed S]
//   seeds <directory>          writes the seed corpus of every target to <directory>/<target>/
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: EdgeCodec.Fuzz <packet|container|rans|message|adapter|onnxpatch|latents|residual|manifest> [--libfuzzer] | smoke [--seconds N] [--target T] [--seed S] | seeds <dir>");
    return 2;
}

if (args[0] == "smoke")
{
    double seconds = 20;
    string target = "all";
    int seed = 12345;
    for (int i = 1; i + 1 < args.Length; i += 2)
    {
        switch (args[i])
        {
            case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
            case "--target": target = args[i + 1]; break;
            case "--seed": seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
            default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
        }
    }

    List<string> targets = target == "all" ? [.. FuzzTargets.All.Keys] : [target];
    if (!targets.All(FuzzTargets.All.ContainsKey))
    {
        Console.Error.WriteLine($"unknown target {target}");
        return 2;
    }

    return SmokeFuzzer.Run(targets, seconds, seed);
}

if (args[0] == "seeds" && args.Length == 2)
{
    foreach (string name in FuzzTargets.All.Keys)
    {
        string dir = Directory.CreateDirectory(Path.Combine(args[1], name)).FullName;
        List<byte[]> seeds = Seeds.For(name);
        for (int i = 0; i < seeds.Count; i++)
        {
            File.WriteAllBytes(Path.Combine(dir, $"seed-{i}.bin"), seeds[i]);
        }
    }

    return 0;
}

if (!FuzzTargets.All.TryGetValue(args[0], out Action<byte[]>? run))
{
    Console.Error.WriteLine($"unknown target {args[0]}");
    return 2;
}

if (args.Length > 1 && args[1] == "--libfuzzer")
{
    Fuzzer.LibFuzzer.Run(span => run(span.ToArray()));
}
else
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        run(copy.ToArray());
    });
}

return 0;
