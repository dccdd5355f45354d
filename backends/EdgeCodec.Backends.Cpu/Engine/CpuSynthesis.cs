using System.Runtime.CompilerServices;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The synthesis graph (without its leading quantize) compiled for one <see cref="KernelTable"/>: packed convs, NHWC
/// activation buffers reused across calls, the last conv writing interleaved RGB straight into the caller's span.
/// </summary>
/// <remarks>Not thread-safe (one set of buffers); each conv spreads its rows over <c>threads</c>.</remarks>
internal sealed unsafe class CpuSynthesis : ISynthesisBackend
{
    private readonly Step[] _steps;
    private readonly NhwcBuffer _input;
    private readonly int _channels;
    private readonly int _threads;

    private CpuSynthesis(KernelTable table, IntegerGraph graph, int channels, int threads)
    {
        _channels = channels;
        _threads = threads;
        Table = table;
        _input = new NhwcBuffer(channels, 128);
        var buffers = new Dictionary<string, NhwcBuffer>(StringComparer.Ordinal) { [graph.Inputs[0].Name] = _input };
        var steps = new List<Step>();
        foreach (GraphNode node in graph.Nodes)
        {
            bool last = node.Output == "rgb";
            if (node is ConvNode conv)
            {
                var pc = new PackedConv(conv, table);
                NhwcBuffer? output = last ? null : new NhwcBuffer(pc.ResultChannels, conv.ZeroPoint);
                steps.Add(new Step(table, pc, null, buffers[conv.Inputs[0]], null, output));
                if (output is not null)
                {
                    buffers[conv.Output] = output;
                }
            }
            else
            {
                var add = (AddNode)node;
                NhwcBuffer a = buffers[add.Inputs[0]], b = buffers[add.Inputs[1]];
                var output = new NhwcBuffer(a.Channels, add.ZeroPoint);
                steps.Add(new Step(table, null, add, a, b, output));
                buffers[add.Output] = output;
            }
        }

        _steps = [.. steps];
    }

    public string Name => CpuBackend.BackendName;

    public bool IsThreadSafe => false;

    public KernelTable Table { get; }

    /// <summary>Profiling (the check tool's <c>profile</c>): when set, receives the Stopwatch ticks spent in each step.</summary>
    internal long[]? StepTicks { get; set; }

    /// <summary>Per step of the last call: a label and its multiply-accumulates (0 for adds).</summary>
    internal IEnumerable<(string Label, long Macs)> Describe()
        => _steps.Select(s => s.Describe());

    /// <summary>Checks that the synthesis graph has only what this engine runs (single-input convs, adds, a 3-channel u8 <c>rgb</c> conv last).</summary>
    public static bool CanRun(ModelPack pack, out string reason)
    {
        IntegerGraph graph = ReferenceBackend.SynthesisFromQuantized(pack);
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            GraphNode node = graph.Nodes[i];
            bool last = i == graph.Nodes.Count - 1;
            switch (node)
            {
                case ConvNode c when c.Inputs.Count == 1 && c.OutputU8 && (!last || (c.Output == "rgb" && c.OutChannels / Math.Max(1, c.DepthToSpace * c.DepthToSpace) == 3)):
                case AddNode when !last:
                    continue;
                default:
                    reason = $"synthesis node '{node.Output}' ({node.Op}) is not supported by the CPU engine";
                    return false;
            }
        }

        reason = string.Empty;
        return true;
    }

    public static CpuSynthesis Create(ModelPack pack, KernelTable table, int threads)
        => new(table, ReferenceBackend.SynthesisFromQuantized(pack), pack.Layout.LatentChannels, threads);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (yq.Length != (long)_channels * height * width)
        {
            throw new ArgumentException($"Expected {_channels * height * width} latent bytes, got {yq.Length}.", nameof(yq));
        }

        if (rgb.Length != (long)height * 16 * width * 16 * 3)
        {
            throw new ArgumentException($"Expected {height * 16 * width * 16 * 3} RGB bytes, got {rgb.Length}.", nameof(rgb));
        }

        LoadInput(yq, height, width);
        fixed (byte* pRgb = rgb)
        {
            long[]? ticks = StepTicks;
            for (int i = 0; i < _steps.Length; i++)
            {
                long t0 = ticks is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                _steps[i].Run(pRgb, _threads);
                if (ticks is not null)
                {
                    ticks[i] += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
                }
            }
        }
    }

    public void Dispose()
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LoadInput(ReadOnlySpan<byte> yq, int height, int width)
    {
        _input.Resize(height, width);
        int plane = height * width, cs = _input.ChannelStride, rowStride = _input.RowStride;
        byte* origin = _input.Origin;
        for (int c = 0; c < _channels; c++)
        {
            ReadOnlySpan<byte> src = yq.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
            {
                byte* d = origin + ((long)y * rowStride) + c;
                for (int x = 0; x < width; x++)
                {
                    d[x * cs] = src[(y * width) + x];
                }
            }
        }
    }

    /// <summary>One node: a conv into an NHWC buffer (or into the RGB output), or an add.</summary>
    private sealed class Step(KernelTable table, PackedConv? conv, AddNode? add, NhwcBuffer a, NhwcBuffer? b, NhwcBuffer? output)
    {
        private readonly int[] _offsets = GC.AllocateArray<int>(conv?.PaddedOut ?? 0, pinned: true);
        private readonly byte[] _contiguous = GC.AllocateArray<byte>(Math.Max(1, (conv?.PaddedOut ?? 0) / ConvGeometry.Block), pinned: true);
        private long _layoutKey = -1;

        public (string Label, long Macs) Describe() => conv is null
            ? ($"add {add!.Output} {a.Height}x{a.Width}x{a.Channels}", 0)
            : ($"conv {conv.Node.Output} {conv.InChannels}->{conv.OutChannels} k{conv.Kernel} on {a.Height}x{a.Width}", (long)conv.InChannels * conv.OutChannels * conv.Taps * a.Height * a.Width);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(byte* rgb, int threads)
        {
            int h = a.Height, w = a.Width;
            if (add is not null)
            {
                RunAdd(h, w);
                return;
            }

            PackedConv pc = conv!;
            int r = pc.Ratio;
            long rowStride;
            int pixelStride;
            byte* origin;
            if (output is not null)
            {
                output.Resize(h * r, w * r);
                rowStride = output.RowStride;
                pixelStride = output.ChannelStride;
                origin = output.Origin;
            }
            else
            {
                rowStride = (long)w * r * 3;
                pixelStride = 3;
                origin = rgb;
            }

            long key = (rowStride << 8) | (uint)pixelStride;
            if (key != _layoutKey)
            {
                ConvRunner.Layout(pc, 1, pixelStride, rowStride, _offsets, _contiguous);
                _layoutKey = key;
            }

            var view = new OutputView
            {
                Dst = origin,
                U8 = true,
                YStep = r * rowStride,
                XStep = r * pixelStride,
                ChanOffset = (int*)Unsafe.AsPointer(ref _offsets[0]),
                Contiguous = (byte*)Unsafe.AsPointer(ref _contiguous[0]),
            };
            ConvRunner.Run(pc, a.Origin, a.RowStride, h, w, view, threads);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunAdd(int h, int w)
        {
            NhwcBuffer bb = b!, o = output!;
            o.Resize(h, w);
            var p = new AddParams(a.ZeroPoint, bb.ZeroPoint, add!.MultA, add.MultB, add.Shift, add.ZeroPoint, add.Lo, add.Hi);
            int n = w * a.ChannelStride;
            var addFn = table.Add;
            for (int y = 0; y < h; y++)
            {
                long off = (long)y * a.RowStride;
                addFn(a.Origin + off, bb.Origin + off, o.Origin + off, n, p);
            }
        }
    }
}
