using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void Psnr_matches_a_hand_computation()
    {
        // 2x1 image, 6 samples; differences 0, 1, 2, 3, 0, 4 -> SSE = 30, MSE = 5.
        var a = new RgbImage(2, 1, [10, 20, 30, 40, 50, 60]);
        var b = new RgbImage(2, 1, [10, 21, 28, 43, 50, 56]);

        double expected = 10 * Math.Log10(255.0 * 255.0 / 5.0); // = 10 * log10(13005) = 41.1411...
        Assert.Equal(expected, Metrics.Psnr(a, b), 12);
        Assert.Equal(41.14110, Metrics.Psnr(a, b), 5);
    }

    [Fact]
    public void Psnr_of_identical_images_is_positive_infinity()
    {
        var a = new RgbImage(3, 3);
        Assert.Equal(double.PositiveInfinity, Metrics.Psnr(a, new RgbImage(3, 3)));
    }

    [Fact]
    public void Metrics_reject_mismatched_sizes()
    {
        Assert.Throws<ArgumentException>(() => Metrics.Psnr(new RgbImage(2, 2), new RgbImage(2, 3)));
        Assert.Throws<ArgumentException>(() => Metrics.MsSsim(new RgbImage(200, 200), new RgbImage(200, 201)));
    }

    [Fact]
    public void MsSsim_rejects_images_smaller_than_the_five_scale_pyramid()
    {
        var small = new RgbImage(Metrics.MsSsimMinDimension - 1, 400);
        Assert.Throws<ArgumentException>(() => Metrics.MsSsim(small, small));
    }

    [Fact]
    public void MsSsim_of_identical_images_is_one()
    {
        RgbImage image = Constructed(181, 167).A;
        Assert.Equal(1.0, Metrics.MsSsim(image, image), 12);
    }

    [Fact]
    public void MsSsim_decreases_monotonically_with_noise()
    {
        RgbImage photo = TestData.Crop(ImageFile.Load(TestData.Kodak("kodim23.png")), 200, 100, 256, 256);
        double previous = Metrics.MsSsim(photo, photo);
        foreach (int amplitude in new[] { 2, 5, 10, 20, 40, 80 })
        {
            double value = Metrics.MsSsim(photo, TestData.WithNoise(photo, amplitude, seed: amplitude));
            Assert.True(value < previous, $"noise ±{amplitude}: {value} >= {previous}");
            Assert.InRange(value, 0.0, 1.0);
            previous = value;
        }
    }

    [Fact]
    public void MsSsim_matches_the_numpy_port_of_pytorch_msssim()
    {
        // reference/msssim_reference.py, constructed_pair(181, 167): odd sizes exercise the zero-padded pooling.
        const double Reference = 0.989833487478626;
        (RgbImage a, RgbImage b) = Constructed(181, 167);

        Assert.Equal(Reference, Metrics.MsSsim(a, b), 1e-10);
    }

    /// <summary>Same formulas as <c>constructed_pair</c> in reference/msssim_reference.py.</summary>
    private static (RgbImage A, RgbImage B) Constructed(int width, int height)
    {
        var a = new RgbImage(width, height);
        var b = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int va = ((x * (c + 1)) + (y * 2) + ((x * y % 23) * 3) + (c * 40)) % 256;
                    int noise = (((x * 31) + (y * 17) + (c * 7)) % 29) - 14;
                    int i = (((y * width) + x) * 3) + c;
                    a.Pixels[i] = (byte)va;
                    b.Pixels[i] = (byte)Math.Clamp(va + noise, 0, 255);
                }
            }
        }

        return (a, b);
    }
}
