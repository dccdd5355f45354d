using System.Security.Cryptography;
using EdgeCodec.Codec;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Tests;

/// <summary>
/// One <c>cpu</c> decoder kept across pictures and warm-ups of other sizes: its activation buffers are resized in
/// between, and every picture must still be the x64 reference's, byte for byte (the committed device vectors).
/// </summary>
[Collection(nameof(GlobalStateCollection))]
public sealed class KeptDecoderTests
{
    [Fact]
    public void A_kept_decoder_warmed_up_for_other_sizes_decodes_the_committed_vectors_exactly()
    {
        CpuBackend.Register(new CpuBackendOptions());
        string vectors = Path.Combine(ModelPackLocator.FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new DirectoryNotFoundException("no EdgeCodec.sln above " + AppContext.BaseDirectory), "device-tests", "vectors");
        using var decoder = new EdgeCodecDecoder(ModelPack.LoadDefault(), new DecoderOptions { Backend = "cpu", Threads = 2 });
        decoder.WarmUp(1000, 700, tileSize: 256); // larger windows than the vectors', before the first picture
        foreach (string name in new[] { "coffee-128x96-q2", "coffee-128x96-q2-r2", "coffee-128x96-q2" })
        {
            using var stream = File.OpenRead(Path.Combine(vectors, name + ".ecx"));
            var (frame, read) = decoder.Decode(stream);
            Assert.True(read.IsComplete);
            string expected = File.ReadAllLines(Path.Combine(vectors, name + ".sha256")).Single(l => l.StartsWith("rgb-sha256 ", StringComparison.Ordinal))[11..];
            Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(frame.Image.Pixels)));
            decoder.WarmUp(64, 64, tileSize: 64); // smaller windows before the next
        }
    }
}
