using EdgeCodec.Imaging;

namespace EdgeCodec.Imaging.Tests;

public sealed class LegacyCodecsTests
{
    private static readonly Lazy<RgbImage> Photo = new(() => ImageFile.Load(TestData.Kodak("kodim23.png")));

    [Fact]
    public void Jpeg_quality_95_exceeds_35_dB_on_a_photo()
    {
        byte[] jpeg = LegacyCodecs.EncodeJpeg(Photo.Value, 95);
        RgbImage decoded = LegacyCodecs.Decode(jpeg);

        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);
        Assert.True(TestData.Psnr(Photo.Value, decoded) > 35, $"PSNR {TestData.Psnr(Photo.Value, decoded):F2} dB");
    }

    [Fact]
    public void Webp_quality_95_exceeds_35_dB_on_a_photo()
    {
        byte[] webp = LegacyCodecs.EncodeWebp(Photo.Value, 95);
        RgbImage decoded = LegacyCodecs.Decode(webp);

        Assert.Equal("RIFF"u8.ToArray(), webp[0..4]);
        Assert.Equal("WEBP"u8.ToArray(), webp[8..12]);
        Assert.True(TestData.Psnr(Photo.Value, decoded) > 35, $"PSNR {TestData.Psnr(Photo.Value, decoded):F2} dB");
    }

    [Fact]
    public void Jpeg_size_and_quality_grow_with_the_quality_setting()
    {
        AssertMonotone(q => LegacyCodecs.EncodeJpeg(Photo.Value, q));
    }

    [Fact]
    public void Webp_size_and_quality_grow_with_the_quality_setting()
    {
        AssertMonotone(q => LegacyCodecs.EncodeWebp(Photo.Value, q));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void Quality_outside_1_to_100_is_rejected(int quality)
    {
        var image = new RgbImage(8, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => LegacyCodecs.EncodeJpeg(image, quality));
        Assert.Throws<ArgumentOutOfRangeException>(() => LegacyCodecs.EncodeWebp(image, quality));
    }

    [Fact]
    public void Truncated_jpeg_throws_InvalidDataException()
    {
        byte[] jpeg = LegacyCodecs.EncodeJpeg(Photo.Value, 75);

        Assert.Throws<InvalidDataException>(() => LegacyCodecs.Decode(jpeg[..(jpeg.Length / 3)]));
        Assert.Throws<InvalidDataException>(() => LegacyCodecs.Decode(jpeg[..10]));
    }

    private static void AssertMonotone(Func<int, byte[]> encode)
    {
        int[] qualities = [10, 30, 50, 70, 90];
        long previousBytes = 0;
        double previousPsnr = 0;
        foreach (int q in qualities)
        {
            byte[] data = encode(q);
            double psnr = TestData.Psnr(Photo.Value, LegacyCodecs.Decode(data));
            Assert.True(data.Length > previousBytes, $"q={q}: {data.Length} bytes <= {previousBytes}");
            Assert.True(psnr > previousPsnr, $"q={q}: {psnr:F2} dB <= {previousPsnr:F2}");
            previousBytes = data.Length;
            previousPsnr = psnr;
        }
    }
}
