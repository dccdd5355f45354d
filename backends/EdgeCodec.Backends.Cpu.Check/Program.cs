using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Backends.Cpu.Check;
using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Models;

// edgecodec-cpu-check: exact comparisons of the CPU backend against the scalar reference, run in child processes
// (DOTNET_Enable*=0) and on Arm64 under qemu. Exit code 0 = every comparison identical.
//   compare [--model PACK] [--cases N] [--expect-isa ISA]
//   vector  ECX EXPECTED [--model PACK] [--write]
//   peak
//   profile [--model PACK] [--window H W] [--threads N] [--repeat R]
string mode = args.Length > 0 ? args[0] : "compare";
string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
ModelPack LoadPack() => Option("--model") is { } path ? ModelPack.Load(path) : ModelPack.LoadDefault();

CpuBackendOptions options = CpuBackendOptions.FromEnvironment();
CpuBackend backend = CpuBackend.Register(options);
Console.WriteLine($"arch={RuntimeInformation.ProcessArchitecture} supported=[{string.Join(",", CpuBackend.SupportedIsas)}] max-isa={options.MaxIsa} active={backend.Isa}");
if (CpuBackend.IsaShortfall is { } shortfall)
{
    Console.WriteLine($"note: {shortfall}");
}
switch (mode)
{
    case "compare":
        return Compare();
    case "vector":
        return VectorCheck.Run(LoadPack(), backend, args[1], args[2], args.Contains("--write"));
    case "peak":
        return Peak.Run();
    case "profile":
        int[] win = Array.IndexOf(args, "--window") is int wi and >= 0 ? [int.Parse(args[wi + 1]), int.Parse(args[wi + 2])] : [32, 48];
        return Profile.Run(LoadPack(), CpuBackend.SupportedIsas.Where(i => i <= options.MaxIsa && i != CpuIsa.Scalar), win[0], win[1],
            int.TryParse(Option("--threads"), out int th) ? th : 1, int.TryParse(Option("--repeat"), out int rep) ? rep : 7);
    default:
        Console.Error.WriteLine($"unknown mode '{mode}'");
        return 2;
}

int Compare()
{
    var sw = Stopwatch.StartNew();
    if (Option("--expect-isa") is { } expect && !string.Equals(expect, backend.Isa.ToString(), StringComparison.OrdinalIgnoreCase))
    {
        Console.WriteLine($"FAIL expected active path {expect}, got {backend.Isa}");
        return 1;
    }

    int cases = int.TryParse(Option("--cases"), out int n) ? n : 60;
    ModelPack pack = LoadPack();
    var z = Conformance.RandomZ(pack, 1, 2, 7);
    int failures = 0;
    foreach (CpuIsa isa in CpuBackend.SupportedIsas.Where(i => i <= options.MaxIsa))
    {
        KernelTable table = KernelTable.For(isa);
        var found = Conformance.Sweep(table, 1234 + (int)isa, cases);
        if (Conformance.Synthesis(pack, table, 5, 7, 99, 2) is { } s)
        {
            found.Add(s);
        }

        if (Conformance.Graph(pack, table, "hyper", new Dictionary<string, EdgeCodec.Inference.Tensor> { ["z"] = z }) is { } g)
        {
            found.Add(g);
        }

        foreach (string f in found)
        {
            Console.WriteLine($"FAIL {f}");
        }

        Console.WriteLine(found.Count == 0 ? $"PASS {isa}: {cases} conv cases, add, quantize, synthesis 5x7, hyper graph identical to the reference" : $"FAIL {isa}: {found.Count} mismatches");
        failures += found.Count;
    }

    // The core SDK's YUV ↔ RGB kernels (a camera's input conversion, a player's display plane) on this machine's vectors.
    var yuv = YuvConformance.Compare(4321, 2 * cases);
    foreach (string f in yuv)
    {
        Console.WriteLine($"FAIL {f}");
    }

    Console.WriteLine(yuv.Count == 0 ? $"PASS yuv: {2 * cases} rows per colour space, both ways and the chroma interleaves, identical to the scalar references (vector kernels selected: {EdgeCodec.Imaging.Rgb24Vectors.Selected})" : $"FAIL yuv: {yuv.Count} mismatches");
    failures += yuv.Count;
    Console.WriteLine($"{(failures == 0 ? "OK" : "MISMATCH")} in {sw.Elapsed.TotalSeconds:F1} s");
    return failures == 0 ? 0 : 1;
}
