using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Backends;

/// <summary>
/// The scalar integer engine: the ground truth every other backend is measured against. Always available.
/// </summary>
internal sealed class ReferenceBackend : DecoderBackend
{
    public override string Name => "reference";

    public override int Priority => 0;

    public override bool IsAvailable(ModelPack pack, out string reason)
    {
        reason = string.Empty;
        return true;
    }

    public override ISynthesisBackend Create(ModelPack pack, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(options);
        return new ReferenceSynthesis(pack, options.EffectiveThreads);
    }

    private sealed class ReferenceSynthesis(ModelPack pack, int threads) : ISynthesisBackend
    {
        private readonly IntegerGraph _graph = SynthesisFromQuantized(pack);
        private readonly TensorPool _pool = new(64L << 20); // also runs the scalar kernels over dirty buffers, every test

        public string Name => "reference";

        public bool IsThreadSafe => true;

        public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb)
        {
            int channels = pack.Layout.LatentChannels;
            if (yq.Length != channels * height * width)
            {
                throw new ArgumentException($"Expected {channels * height * width} latent bytes, got {yq.Length}.", nameof(yq));
            }

            if (rgb.Length != height * 16 * width * 16 * 3)
            {
                throw new ArgumentException($"Expected {height * 16 * width * 16 * 3} RGB bytes, got {rgb.Length}.", nameof(rgb));
            }

            var input = TensorPool.U8(_pool, channels, height, width, 128);
            yq.CopyTo(input.Data);
            var output = (U8Tensor)_graph.Run(new Dictionary<string, Tensor> { ["yq"] = input }, 0, threads, _pool)["rgb"];
            Interleave(output, rgb);
            _pool.Return(output);
            _pool.Return(input);
        }

        public void Dispose()
        {
        }

        private static void Interleave(U8Tensor planar, Span<byte> rgb)
        {
            int plane = planar.PlaneSize;
            var data = planar.Data;
            for (int i = 0; i < plane; i++)
            {
                rgb[3 * i] = data[i];
                rgb[(3 * i) + 1] = data[plane + i];
                rgb[(3 * i) + 2] = data[(2 * plane) + i];
            }
        }
    }

    /// <summary>The pack's synthesis graph without its leading quantize node: input <c>yq</c> (u8, zero point 128).</summary>
    internal static IntegerGraph SynthesisFromQuantized(ModelPack pack)
    {
        var full = pack.GetGraph("synthesis");
        var first = full.Nodes[0];
        return new IntegerGraph("synthesis-from-yq", [.. full.Nodes.Skip(1)], [new GraphInput(first.Output, true, pack.Layout.LatentChannels, 128)], full.Outputs, full.QualityLevels);
    }
}
