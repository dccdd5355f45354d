using EdgeCodec.Adapters;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Adapters;

public sealed class AdapterPackageTests
{
    [PackFact]
    public void Signed_package_round_trips_and_verifies()
    {
        var (key, trust) = TestAdapters.Publisher();
        var package = TestAdapters.Make(TestPacks.Pack, "warm", 1, 1, 1.02, 3).Sign(key);
        var read = AdapterPackage.Read(package.ToBytes());
        read.VerifySignature(trust);
        Assert.Equal("warm", read.Manifest.Id);
        Assert.Equal(package.ContentSha256, read.ContentSha256);
        Assert.Equal(2 * read.Layers[0].Channels, read.Manifest.ParameterCount);
        Assert.Equal(package.ToBytes(), read.ToBytes());
    }

    [PackFact]
    public void Tampered_unsigned_and_foreign_packages_are_refused()
    {
        var (key, trust) = TestAdapters.Publisher();
        var (otherKey, _) = TestAdapters.Publisher();
        var adapter = TestAdapters.Make(TestPacks.Pack, "warm", 1, 1, 1.02, 3);

        var unsigned = AdapterPackage.Read(adapter.ToBytes());
        Assert.Contains("not signed", Assert.Throws<AdapterVerificationException>(() => unsigned.VerifySignature(trust)).Message, StringComparison.Ordinal);

        var foreign = AdapterPackage.Read(adapter.Sign(otherKey).ToBytes());
        Assert.Contains("does not trust", Assert.Throws<AdapterVerificationException>(() => foreign.VerifySignature(trust)).Message, StringComparison.Ordinal);

        // Change one weight but keep the old signature: the content hash no longer matches it.
        var layer = adapter.Layers[0];
        var evil = AdapterPackage.Create(adapter.Manifest, [layer with { Bias = [.. layer.Bias.Select((b, i) => i == 0 ? b + 1000 : b)] }]);
        byte[] forged = SpliceSignature(evil.ToBytes(), adapter.Sign(key).ToBytes());
        Assert.Contains("does not match", Assert.Throws<AdapterVerificationException>(() => AdapterPackage.Read(forged).VerifySignature(trust)).Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Truncated_or_garbage_packages_give_typed_errors()
    {
        byte[] good = TestAdapters.Make(TestPacks.Pack, "warm", 1, 1, 1.0, 0).ToBytes();
        for (int cut = 0; cut < good.Length; cut += Math.Max(1, good.Length / 37))
        {
            Assert.Throws<EdgeCodecFormatException>(() => AdapterPackage.Read(good.AsSpan(0, cut)));
        }

        Assert.Throws<EdgeCodecFormatException>(() => AdapterPackage.Read(new byte[AdapterPackage.MaxPackageBytes + 1]));
    }

    [PackFact]
    public void Adapter_for_another_model_is_refused_by_the_pack()
    {
        var adapter = TestAdapters.Make(TestPacks.Pack, "warm", 1, 1, 1.0, 0);
        var other = AdapterPackage.Create(new AdapterManifest { Id = "warm", ExpertId = 1, Domain = "x", Version = 1, BaseModelSha256 = new string('0', 64) }, adapter.Layers);
        Assert.Throws<AdapterVerificationException>(() => TestPacks.Pack.WithAdapter(other));
        var wrongLayer = AdapterPackage.Create(adapter.Manifest, [adapter.Layers[0] with { Output = "nope" }]);
        Assert.Contains("nope", Assert.Throws<AdapterVerificationException>(() => TestPacks.Pack.WithAdapter(wrongLayer)).Message, StringComparison.Ordinal);
    }

    private static byte[] SpliceSignature(byte[] target, byte[] signedSource)
    {
        using var src = new System.IO.Compression.ZipArchive(new MemoryStream(signedSource));
        using var ms = new MemoryStream();
        ms.Write(target);
        using (var zip = new System.IO.Compression.ZipArchive(ms, System.IO.Compression.ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = zip.CreateEntry("signature.json");
            using var to = entry.Open();
            using var from = src.GetEntry("signature.json")!.Open();
            from.CopyTo(to);
        }

        return ms.ToArray();
    }
}
