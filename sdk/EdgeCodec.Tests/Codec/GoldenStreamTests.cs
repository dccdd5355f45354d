using System.Security.Cryptography;
using EdgeCodec.Codec;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>
/// Locks the decoder: a committed container and the SHA-256 of its reference decode. Any change to
/// parsing, the integer engine or the pack changes the hash; regenerate deliberately with
/// EDGECODEC_REGENERATE_VECTORS=1 (the container records which pack it belongs to).
/// </summary>
public sealed class GoldenStreamTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static string Folder => Path.Combine(TestPacks.RepositoryRoot, "tests", "vectors", "model");

    [PackFact]
    public void Committed_stream_decodes_to_the_committed_hash_on_every_backend_thread_count()
    {
        string ecx = Path.Combine(Folder, "golden-q2.ecx");
        string sums = Path.Combine(Folder, "golden-q2.sha256");
        if (Environment.GetEnvironmentVariable("EDGECODEC_REGENERATE_VECTORS") == "1")
        {
            File.WriteAllBytes(ecx, fixture.Encoded(2).ToContainerBytes());
            File.WriteAllText(sums, $"{Hash(Decode(ecx, 1))}  reference-decode\n{fixture.Pack.Sha256}  pack\n");
        }

        string[] lines = File.ReadAllLines(sums);
        Assert.Equal(fixture.Pack.Sha256, lines[1].Split(' ')[0]);
        string expected = lines[0].Split(' ')[0];
        Assert.Equal(expected, Hash(Decode(ecx, 1)));
        Assert.Equal(expected, Hash(Decode(ecx, 2)));
    }

    /// <summary>
    /// The same for a stream with a residual layer (docs/format.md, "The residual layer"), written when the pack has
    /// residual tables: level 2 with the middle step.
    /// </summary>
    [PackFact]
    public void Committed_residual_stream_decodes_to_the_committed_hash()
    {
        string ecx = Path.Combine(Folder, "golden-q2-residual.ecx");
        string sums = Path.Combine(Folder, "golden-q2-residual.sha256");
        if (Environment.GetEnvironmentVariable("EDGECODEC_REGENERATE_VECTORS") == "1" && fixture.Pack.Residual is not null)
        {
            var setting = new EdgeCodec.Models.QualitySetting(2, fixture.Pack.ResidualSteps.Count / 2);
            File.WriteAllBytes(ecx, fixture.Encoder.Encode(fixture.Image, setting).ToContainerBytes());
            File.WriteAllText(sums, $"{Hash(Decode(ecx, 1))}  reference-decode\n{fixture.Pack.Sha256}  pack\n");
        }

        if (fixture.Pack.Residual is null)
        {
            Assert.False(File.Exists(ecx), "a residual golden stream is committed but the pack has no residual tables");
            return;
        }

        string[] lines = File.ReadAllLines(sums);
        Assert.Equal(fixture.Pack.Sha256, lines[1].Split(' ')[0]);
        Assert.Equal(lines[0].Split(' ')[0], Hash(Decode(ecx, 2)));
        using var fs = File.OpenRead(ecx);
        Assert.Equal(fixture.Pack.Layout.Groups + 1, EdgeCodecDecoder.Decode(fixture.Pack, fs).Container.Header.LayerCount);
    }

    private RgbImageBytes Decode(string path, int threads)
    {
        using var fs = File.OpenRead(path);
        var (frame, read) = EdgeCodecDecoder.Decode(fixture.Pack, fs, new DecoderOptions { Backend = "reference", Threads = threads });
        Assert.True(read.IsComplete);
        return new RgbImageBytes(frame.Image.Pixels);
    }

    private static string Hash(RgbImageBytes image) => Convert.ToHexStringLower(SHA256.HashData(image.Pixels));

    private readonly record struct RgbImageBytes(byte[] Pixels);
}
