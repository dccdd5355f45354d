using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Streaming.Tests;

/// <summary>Two real frames, encoded once per test class (encoding costs ~0.5 s a frame here).</summary>
public sealed class CodecFixture : IDisposable
{
    public CodecFixture()
    {
        Pack = ModelPack.LoadDefault();
        string root = RepositoryRoot();
        var coffee = ImageFile.Load(Path.Combine(root, "samples", "media", "coffee.png"));
        using var encoder = new EdgeCodecEncoder(Pack, new EncoderOptions { Threads = 2, TileSize = 64 });
        Images = [Crop(coffee, 16, 16, 128, 96), Crop(coffee, 120, 60, 128, 96)];
        var frames = new List<EncodedImage>();
        ulong sequence = 0;
        for (uint f = 0; f < Images.Count; f++)
        {
            var encoded = encoder.Encode(Images[(int)f], quality: 1, layers: 0, streamId: Synthetic.StreamId, frameIndex: f, firstSequence: sequence);
            sequence += (ulong)encoded.Packets.Count;
            frames.Add(encoded);
        }

        Frames = frames;
    }

    public ModelPack Pack { get; }

    public IReadOnlyList<RgbImage> Images { get; }

    public IReadOnlyList<EncodedImage> Frames { get; }

    public void Dispose()
    {
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeCodec.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EdgeCodec.sln not found above the test binaries.");
    }

    internal static RgbImage Crop(RgbImage src, int x0, int y0, int w, int h)
    {
        var dst = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
        {
            src.Row(y0 + y).Slice(x0 * 3, w * 3).CopyTo(dst.Row(y));
        }

        return dst;
    }
}
