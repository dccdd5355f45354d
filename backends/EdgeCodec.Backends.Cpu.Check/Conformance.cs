using EdgeCodec.Backends;
using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Check;

/// <summary>
/// Exact comparisons of every kernel path against the scalar reference engine (checkasm style), shared by the
/// check tool (child processes, Arm64 under qemu) and the xunit tests.
/// </summary>
internal static class Conformance
{
    /// <summary>A random conv node; <paramref name="worst"/> uses only ±127/-128 weights.</summary>
    public static ConvNode RandomConv(Random rng, int cin, int outChannels, int k, bool d2s, bool u8, bool worst = false, int inputs = 1)
    {
        var weight = new sbyte[outChannels * cin * k * k];
        for (int i = 0; i < weight.Length; i++)
        {
            weight[i] = worst ? (sbyte)(rng.Next(3) switch { 0 => 127, 1 => -127, _ => -128 }) : (sbyte)rng.Next(-128, 128);
        }

        var bias = new int[outChannels];
        var mult = new int[outChannels];
        var shift = new int[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            bias[o] = worst ? (rng.Next(2) == 0 ? int.MaxValue : int.MinValue) : rng.Next(-1 << 20, 1 << 20);
            mult[o] = worst ? int.MaxValue - rng.Next(3) : rng.Next(1, int.MaxValue);
            shift[o] = worst ? rng.Next(1, 63) : rng.Next(20, 45);
        }

        int zp = u8 ? (rng.Next(2) == 0 ? 0 : 128) : rng.Next(-1000, 1000);
        int lo, hi;
        if (u8)
        {
            lo = rng.Next(0, 100);
            hi = rng.Next(150, 256);
        }
        else
        {
            lo = rng.Next(2) == 0 ? int.MinValue : -rng.Next(1, 1 << 20);
            hi = rng.Next(2) == 0 ? int.MaxValue : rng.Next(1, 1 << 20);
        }

        string[] names = [.. Enumerable.Range(0, inputs).Select(i => $"in{i}")];
        return new ConvNode(names, "out", weight, outChannels, cin, k, bias, mult, shift, u8, zp, lo, hi, d2s ? 2 : 0);
    }

    /// <summary>Splits <paramref name="cin"/> channels into <paramref name="count"/> random u8 parts with zero points 0/128.</summary>
    public static U8Tensor[] RandomParts(Random rng, int cin, int count, int h, int w, bool worst = false)
    {
        var parts = new U8Tensor[count];
        int left = cin;
        for (int i = 0; i < count; i++)
        {
            int c = i == count - 1 ? left : Math.Max(1, rng.Next(1, left - (count - i - 1) + 1));
            left -= c;
            var t = new U8Tensor(c, h, w, rng.Next(2) == 0 ? 0 : 128);
            if (worst)
            {
                t.Data.AsSpan().Fill(255);
            }
            else
            {
                rng.NextBytes(t.Data);
            }

            parts[i] = t;
        }

        return parts;
    }

    public static bool Same(Tensor a, Tensor b) => (a, b) switch
    {
        (U8Tensor x, U8Tensor y) => x.SameShape(y) && x.ZeroPoint == y.ZeroPoint && x.Data.AsSpan().SequenceEqual(y.Data),
        (I32Tensor x, I32Tensor y) => x.SameShape(y) && x.Data.AsSpan().SequenceEqual(y.Data),
        _ => false,
    };

    /// <summary>One conv case on one path; returns a description of the mismatch or null.</summary>
    public static string? ConvCase(KernelTable table, ConvNode node, U8Tensor[] parts, int threads)
    {
        Tensor expected = ConvKernel.Run(node, parts, 1);

        // The output comes from a pool that holds a dirty array of its size (a kept decoder's buffers hold the last
        // picture's values), so an element the kernel does not write shows.
        var pool = new TensorPool();
        if (expected is I32Tensor)
        {
            int[] dirty = new int[expected.Length];
            dirty.AsSpan().Fill(unchecked((int)0xA5A5A5A5));
            pool.Return(dirty);
        }
        else
        {
            byte[] dirty = new byte[expected.Length];
            dirty.AsSpan().Fill(0xA5);
            pool.Return(dirty);
        }

        Tensor actual = CpuOps.Conv(new PackedConv(node, table), parts, threads, pool);
        return Same(expected, actual) ? null
            : $"{table.Isa}: conv Cin={node.InChannels} O={node.OutChannels} k={node.Kernel} d2s={node.DepthToSpace} u8={node.OutputU8} zp={node.ZeroPoint} lo={node.Lo} hi={node.Hi} {parts[0].Height}x{parts[0].Width} parts={parts.Length} threads={threads}";
    }

    /// <summary>A sweep of random and worst-case convs, adds and quantizes on one path (seconds, not minutes).</summary>
    public static List<string> Sweep(KernelTable table, int seed, int cases)
    {
        var failures = new List<string>();
        var rng = new Random(seed);
        int[] sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33];
        for (int i = 0; i < cases; i++)
        {
            int k = rng.Next(2) == 0 ? 1 : 3;
            int cin = rng.Next(1, 34);
            bool d2s = rng.Next(2) == 0;
            int outChannels = d2s ? 4 * rng.Next(1, 18) : rng.Next(1, 70);
            bool u8 = rng.Next(3) != 0;
            bool worst = i % 5 == 4;
            int h = sizes[rng.Next(sizes.Length)], w = sizes[rng.Next(sizes.Length)];
            int inputs = Math.Min(cin, rng.Next(1, 4));
            ConvNode node = RandomConv(rng, cin, outChannels, k, d2s, u8, worst, inputs);
            U8Tensor[] parts = RandomParts(rng, cin, inputs, h, w, worst);
            if (ConvCase(table, node, parts, 1 + (i % 2)) is { } f)
            {
                failures.Add(f);
            }
        }

        for (int n = 1; n <= 40; n++)
        {
            var a = new U8Tensor(1, 1, n, rng.Next(2) * 128);
            var b = new U8Tensor(1, 1, n, rng.Next(2) * 128);
            rng.NextBytes(a.Data);
            rng.NextBytes(b.Data);
            var add = new AddNode("a", "b", "c", rng.Next(-1 << 20, 1 << 20), rng.Next(-1 << 20, 1 << 20), rng.Next(1, 40), rng.Next(2) * 128, rng.Next(0, 100), rng.Next(150, 256));
            if (!Same(AddKernel.Run(a, b, add), CpuOps.Add(table, a, b, add)))
            {
                failures.Add($"{table.Isa}: add n={n}");
            }

            var x = new I32Tensor(2, 1, n);
            for (int j = 0; j < x.Length; j++)
            {
                x.Data[j] = rng.Next(4) == 0 ? (rng.Next(2) == 0 ? int.MaxValue : int.MinValue) : rng.Next(int.MinValue, int.MaxValue);
            }

            int[] mult = [rng.Next(1, int.MaxValue), int.MaxValue];
            int[] shift = [rng.Next(1, 63), rng.Next(1, 63)];
            int zp = rng.Next(2) * 128;
            if (!Same(QuantizeKernel.Run(x, mult, shift, zp), CpuOps.Quantize(table, x, mult, shift, zp)))
            {
                failures.Add($"{table.Isa}: quantize n={n}");
            }
        }

        return failures;
    }

    /// <summary>The real pack's synthesis on a latent window: the CPU engine vs the reference backend, bytes compared.</summary>
    public static string? Synthesis(ModelPack pack, KernelTable table, int height, int width, int seed, int threads) =>
        SynthesisSequence(pack, table, [(height, width), (height, width)], seed, threads);

    /// <summary>
    /// One synthesis instance run on windows of the given sizes in turn (as tiles of different widths follow each other
    /// in an image), each compared with the reference bytes: buffers are resized between calls and only their borders
    /// are rewritten, so stale interiors from a larger or smaller window must never leak.
    /// </summary>
    public static string? SynthesisSequence(ModelPack pack, KernelTable table, IReadOnlyList<(int Height, int Width)> sizes, int seed, int threads)
    {
        using var cpu = CpuSynthesis.Create(pack, table, threads);
        for (int i = 0; i < sizes.Count; i++)
        {
            var (height, width) = sizes[i];
            var (yq, expected) = ReferenceSynthesis(pack, height, width, seed + i);
            var actual = new byte[expected.Length];
            Array.Fill(actual, (byte)0xA5);
            cpu.Synthesize(yq, height, width, actual);
            if (!expected.AsSpan().SequenceEqual(actual))
            {
                return $"{table.Isa}: synthesis {height}x{width} (call {i + 1} of {sizes.Count}) threads={threads} differs from the reference";
            }
        }

        return null;
    }

    private static (byte[] Latents, byte[] Rgb) ReferenceSynthesis(ModelPack pack, int height, int width, int seed)
    {
        var rng = new Random(seed);
        var yq = new byte[pack.Layout.LatentChannels * height * width];
        for (int i = 0; i < yq.Length; i++)
        {
            yq[i] = (byte)Math.Clamp(128 + (int)Math.Round(NextGaussian(rng) * 12), 0, 255);
        }

        // The reference: the synthesis graph run with the scalar conv explicitly (not through IntegerKernels.Conv,
        // which CpuBackend.Register replaces).
        IntegerGraph graph = ReferenceBackend.SynthesisFromQuantized(pack);
        var input = new U8Tensor(pack.Layout.LatentChannels, height, width, 128, yq);
        var planar = (U8Tensor)RunGraph(graph, new Dictionary<string, Tensor> { [graph.Inputs[0].Name] = input }, (n, p) => ConvKernel.Run(n, p, 1))["rgb"];
        var expected = new byte[height * 16 * width * 16 * 3];
        for (int i = 0; i < planar.PlaneSize; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                expected[(3 * i) + c] = planar.Data[(c * planar.PlaneSize) + i];
            }
        }

        return (yq, expected);
    }

    /// <summary>A named integer graph of the pack run with the reference conv and with the path's conv.</summary>
    public static string? Graph(ModelPack pack, KernelTable table, string name, IReadOnlyDictionary<string, Tensor> inputs)
    {
        IntegerGraph graph = pack.GetGraph(name);
        var entropy = new EntropyConv(table);
        Dictionary<string, Tensor> expected = RunGraph(graph, inputs, (n, p) => ConvKernel.Run(n, p, 1));
        Dictionary<string, Tensor> actual = RunGraph(graph, inputs, (n, p) => entropy.Run(n, p, 2, null));
        foreach (string output in graph.Outputs)
        {
            if (!Same(expected[output], actual[output]))
            {
                return $"{table.Isa}: graph {name} output {output} differs from the reference";
            }
        }

        return null;
    }

    /// <summary>Runs a graph node by node with an explicit conv (independent of the global <c>IntegerKernels</c> hook).</summary>
    public static Dictionary<string, Tensor> RunGraph(IntegerGraph graph, IReadOnlyDictionary<string, Tensor> inputs, Func<ConvNode, IReadOnlyList<U8Tensor>, Tensor> conv)
    {
        var env = new Dictionary<string, Tensor>(inputs, StringComparer.Ordinal);
        foreach (GraphNode node in graph.Nodes)
        {
            var args = node.Inputs.Select(n => env[n]).ToList();
            env[node.Output] = node is ConvNode c ? conv(c, [.. args.Cast<U8Tensor>()]) : node.Execute(args, 0, 1);
        }

        return env;
    }

    /// <summary>Random hyper-latent <c>z</c> for a tile of <paramref name="h"/>×<paramref name="w"/> hyper positions.</summary>
    public static I32Tensor RandomZ(ModelPack pack, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var z = new I32Tensor(pack.Layout.HyperChannels, h, w);
        for (int i = 0; i < z.Length; i++)
        {
            z.Data[i] = (int)Math.Round(NextGaussian(rng) * 3);
        }

        return z;
    }

    private static double NextGaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
