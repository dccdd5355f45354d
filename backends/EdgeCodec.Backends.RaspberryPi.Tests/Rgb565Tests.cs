namespace EdgeCodec.Backends.RaspberryPi.Tests;

public sealed class Rgb565Tests
{
    [Fact]
    public void Vector_path_matches_the_scalar_reference_on_every_length()
    {
        var rng = new Random(565);
        for (int pixels = 0; pixels <= 80; pixels++)
        {
            var rgb = new byte[pixels * 3];
            rng.NextBytes(rgb);
            var fast = new byte[pixels * 2];
            var slow = new byte[pixels * 2];
            Rgb565.Convert(rgb, fast);
            Rgb565.ConvertScalar(rgb, slow);
            Assert.Equal(slow, fast);
        }
    }

    [Fact]
    public void Extremes_and_known_colours_pack_big_endian()
    {
        byte[] rgb = [255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0x12, 0x34, 0x56];
        var output = new byte[12];
        Rgb565.Convert(rgb, output);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0, 0, 0xF8, 0, 0x07, 0xE0, 0, 0x1F, 0x11, 0xAA }, output);
    }

    [Fact]
    public void Wrong_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Rgb565.Convert(new byte[4], new byte[4]));
        Assert.Throws<ArgumentException>(() => Rgb565.Convert(new byte[6], new byte[3]));
    }
}
