using System.Security.Cryptography;
using EdgeCodec.Adapters;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Tests.Adapters;

/// <summary>Builds real adapters for the real pack: per-channel retuning of one synthesis conv.</summary>
internal static class TestAdapters
{
    /// <summary>An adapter that scales layer <paramref name="output"/> by <paramref name="scale"/> and adds <paramref name="biasShift"/> accumulator units.</summary>
    public static AdapterPackage Make(ModelPack pack, string id, ushort expert, int version, double scale, int biasShift, string output = "a5", string? baseModelSha256 = null)
    {
        var conv = pack.GetGraph("synthesis").Nodes.OfType<ConvNode>().Single(n => n.Output == output);
        var layer = new AdapterLayer(output,
            [.. conv.Bias.Select(b => b + biasShift)],
            [.. conv.Mult.Select(m => (int)Math.Clamp(Math.Round(m * scale), 1, int.MaxValue))],
            [.. conv.Shift]);
        var manifest = new AdapterManifest { Id = id, ExpertId = expert, Domain = "test", Version = version, BaseModelSha256 = baseModelSha256 ?? pack.Sha256 };
        return AdapterPackage.Create(manifest, [layer]);
    }

    public static (ECDsa Key, AdapterTrustStore Trust) Publisher()
    {
        var (priv, pub) = AdapterKeys.Create();
        var trust = new AdapterTrustStore();
        trust.Add(pub);
        return (AdapterKeys.Import(priv), trust);
    }
}
