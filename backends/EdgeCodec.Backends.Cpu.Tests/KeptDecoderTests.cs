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
        string vectors = VectorsFolder();
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

        // Then the same run with no warm-up between: the pictures share a geometry, so each reuses the arrays of the
        // one before (its latents, its tiles' entropy tensors), full of that picture's values.
        // The preview vector (the same picture's hyper-latents alone) between two full decodes of its geometry: arrays
        // full of decoded groups, then of predicted means, hand over to each other.
        foreach (string name in new[] { "coffee-128x96-q2-r2", "coffee-128x96-q2", "coffee-128x96-q2-r2", "coffee-320x192-t128-q3", "coffee-320x192-t128-q3-preview", "coffee-320x192-t128-q3" })
        {
            using var stream = File.OpenRead(Path.Combine(vectors, name + ".ecx"));
            string expected = File.ReadAllLines(Path.Combine(vectors, name + ".sha256")).Single(l => l.StartsWith("rgb-sha256 ", StringComparison.Ordinal))[11..];
            Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(decoder.Decode(stream).Frame.Image.Pixels)));
        }
    }

    [Fact]
    public void A_kept_warmed_decoder_allocates_little_beyond_the_picture_it_returns()
    {
        CpuBackend.Register(new CpuBackendOptions());
        byte[] container = File.ReadAllBytes(Path.Combine(VectorsFolder(), "coffee-320x192-t128-q3.ecx")); // 3×2 tiles

        // One thread, so every allocation of a decode is on this thread's counter.
        using var decoder = new EdgeCodecDecoder(ModelPack.LoadDefault(), new DecoderOptions { Backend = "cpu", Threads = 1 });
        decoder.WarmUp(320, 192, tileSize: 128);
        var first = decoder.Decode(new MemoryStream(container, writable: false)).Frame;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var second = decoder.Decode(new MemoryStream(container, writable: false)).Frame;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(first.Image.Pixels, second.Image.Pixels);
        Assert.Equal(6, second.LayersPerTile.Count);

        // Latents, symbols, scale indices and the hyper and context activations come from the decoder's pool: what is
        // left is the picture and per-tile bookkeeping (~75 kB here: 6 tiles × 4 groups of graph runs). Without the
        // pool this stream cost ~8× its picture.
        long pictureBytes = second.Image.Pixels.Length;
        Assert.True(allocated < 2 * pictureBytes, $"a kept decoder allocated {allocated:N0} B for a {pictureBytes:N0} B picture");

        // A player that hands each picture back once shown (Recycle) gets the next one decoded into it: then only the
        // bookkeeping is left, less than half a picture here.
        decoder.Recycle(second.Image);
        before = GC.GetAllocatedBytesForCurrentThread();
        var third = decoder.Decode(new MemoryStream(container, writable: false)).Frame;
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(first.Image.Pixels, third.Image.Pixels);
        Assert.True(allocated < pictureBytes / 2, $"a kept decoder allocated {allocated:N0} B for a recycled {pictureBytes:N0} B picture");
    }

    private static string VectorsFolder() => Path.Combine(ModelPackLocator.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new DirectoryNotFoundException("no EdgeCodec.sln above " + AppContext.BaseDirectory), "device-tests", "vectors");
}
