using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>One real pack, one real photo (a crop of the bundled sample), encoded once per quality.</summary>
public sealed class CodecFixture : IDisposable
{
    private readonly Dictionary<(int Quality, int Layers), EncodedImage> _encoded = [];

    public CodecFixture()
    {
        Pack = TestPacks.Pack;
        var full = ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));
        Image = Crop(full, 40, 24, 328, 200); // not a multiple of 64: exercises padding and partial tiles
        Encoder = new EdgeCodecEncoder(Pack, new EncoderOptions { Threads = 2, TileSize = 128 });
    }

    public ModelPack Pack { get; }

    public RgbImage Image { get; }

    public EdgeCodecEncoder Encoder { get; }

    public EncodedImage Encoded(int quality, int layers = 0)
    {
        lock (_encoded)
        {
            if (!_encoded.TryGetValue((quality, layers), out var e))
            {
                e = Encoder.Encode(Image, quality, layers);
                _encoded[(quality, layers)] = e;
            }

            return e;
        }
    }

    public static RgbImage Crop(RgbImage src, int x0, int y0, int w, int h)
    {
        var dst = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
        {
            src.Row(y0 + y).Slice(x0 * 3, w * 3).CopyTo(dst.Row(y));
        }

        return dst;
    }

    public static double Psnr(RgbImage a, RgbImage b)
    {
        double se = 0;
        for (int i = 0; i < a.Pixels.Length; i++)
        {
            double d = a.Pixels[i] - b.Pixels[i];
            se += d * d;
        }

        return 10 * Math.Log10(255.0 * 255.0 * a.Pixels.Length / Math.Max(se, 1e-9));
    }

    public void Dispose() => Encoder.Dispose();
}
