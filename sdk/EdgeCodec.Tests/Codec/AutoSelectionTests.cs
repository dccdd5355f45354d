using EdgeCodec.Backends;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

public sealed class AutoSelectionTests
{
    [PackFact]
    public void Auto_times_every_available_backend_and_picks_one_of_the_fastest()
    {
        var log = new List<string>();
        var chosen = DecoderBackends.Resolve(DecoderBackends.Auto, TestPacks.Pack, log.Add);
        var probes = log.Where(l => l.Contains("synthesises", StringComparison.Ordinal)).ToList();
        Assert.Contains(probes, l => l.Contains("'reference'", StringComparison.Ordinal));
        Assert.Contains(probes, l => l.Contains("'onnx'", StringComparison.Ordinal));
        Assert.NotEqual("reference", chosen.Name); // the scalar engine is an order of magnitude slower than ORT
        Assert.Equal($"auto: using backend '{chosen.Name}'", log[^1]);
    }

    [PackFact]
    public void Unknown_and_unavailable_names_are_errors_not_fallbacks()
    {
        Assert.Throws<ArgumentException>(() => DecoderBackends.Resolve("no-such-backend", TestPacks.Pack));
        DecoderBackends.Register(new NeverAvailable());
        var ex = Assert.Throws<NotSupportedException>(() => DecoderBackends.Resolve("never", TestPacks.Pack));
        Assert.Contains("no device here", ex.Message, StringComparison.Ordinal);
    }

    private sealed class NeverAvailable : DecoderBackend
    {
        public override string Name => "never";

        public override int Priority => 99;

        public override bool IsAvailable(EdgeCodec.Models.ModelPack pack, out string reason)
        {
            reason = "no device here";
            return false;
        }

        public override ISynthesisBackend Create(EdgeCodec.Models.ModelPack pack, BackendOptions options) => throw new NotSupportedException();
    }
}
