using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeCodec.Imaging;
using SkiaSharp;

namespace EdgeCodec.Imaging.Tests;

public sealed class ImageFileTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 23)]
    [InlineData(256, 3)]
    public void Png_round_trip_through_a_stream_is_lossless(int width, int height)
    {
        RgbImage original = TestData.Random(width, height, seed: width * 1000 + height);
        using var stream = new MemoryStream();

        ImageFile.SavePng(original, stream);
        stream.Position = 0;
        RgbImage decoded = ImageFile.Load(stream);

        Assert.Equal(width, decoded.Width);
        Assert.Equal(height, decoded.Height);
        Assert.Equal(original.Pixels, decoded.Pixels);
    }

    [Fact]
    public void Load_reads_a_stream_that_returns_one_byte_at_a_time()
    {
        RgbImage original = TestData.Random(33, 17, seed: 3);
        using var png = new MemoryStream();
        ImageFile.SavePng(original, png);

        RgbImage decoded = ImageFile.Load(new OneByteStream(png.ToArray()));

        Assert.Equal(original.Pixels, decoded.Pixels);
    }

    [Fact]
    public void Png_round_trip_through_a_file_is_lossless()
    {
        RgbImage original = TestData.Random(64, 48, seed: 7);
        string path = Path.Combine(Path.GetTempPath(), $"edgecodec-{Guid.NewGuid():N}.png");
        try
        {
            ImageFile.SavePng(original, path);
            Assert.Equal(original.Pixels, ImageFile.Load(path).Pixels);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Kodak_photo_loads_at_its_known_size()
    {
        RgbImage image = ImageFile.Load(TestData.Kodak("kodim23.png"));

        Assert.Equal(768, image.Width);
        Assert.Equal(512, image.Height);
    }

    [Fact]
    public void Truncated_png_throws_InvalidDataException_naming_the_path()
    {
        byte[] png = File.ReadAllBytes(TestData.Kodak("kodim23.png"));
        string path = Path.Combine(Path.GetTempPath(), $"edgecodec-truncated-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, png.AsSpan(0, png.Length / 2).ToArray());
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => ImageFile.Load(path));
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(4096)]
    public void Garbage_throws_InvalidDataException(int length)
    {
        var garbage = new byte[length];
        new Random(length).NextBytes(garbage);

        Assert.Throws<InvalidDataException>(() => ImageFile.Load(new MemoryStream(garbage)));
    }

    [Fact]
    public void Header_larger_than_MaxDimension_is_rejected_before_decoding()
    {
        using var stream = new MemoryStream();
        ImageFile.SavePng(TestData.Random(4, 4, seed: 1), stream);
        byte[] png = stream.ToArray();

        // IHDR is the first chunk: 8-byte signature, 4-byte length, "IHDR", then width and height.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), RgbImage.MaxDimension + 1);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), RgbImage.MaxDimension + 1);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));

        var ex = Assert.Throws<InvalidDataException>(() => ImageFile.Load(new MemoryStream(png)));
        Assert.Contains("16385x16385", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Alpha_is_composited_onto_black()
    {
        // One opaque red pixel, one half-transparent white pixel, one fully transparent green pixel.
        byte[] rgba = [255, 0, 0, 255, 255, 255, 255, 128, 0, 255, 0, 0];
        var info = new SKImageInfo(3, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        GCHandle pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        byte[] png;
        try
        {
            using var pixmap = new SKPixmap(info, pin.AddrOfPinnedObject());
            using SKData data = pixmap.Encode(SKPngEncoderOptions.Default)!;
            png = data.ToArray();
        }
        finally
        {
            pin.Free();
        }

        RgbImage image = LegacyCodecs.Decode(png);

        Assert.Equal(new byte[] { 255, 0, 0 }, image.Pixels[0..3]);
        Assert.InRange(image.Pixels[3], 127, 129);
        Assert.Equal(new byte[] { 0, 0, 0 }, image.Pixels[6..9]);
    }

    [Fact]
    public void Exif_orientation_6_rotates_90_degrees_clockwise()
    {
        // 32x16: left half red, right half blue. Rotated clockwise the left half ends up on top.
        var image = new RgbImage(32, 16);
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                image.Row(y)[x * 3] = x < 16 ? (byte)255 : (byte)0;
                image.Row(y)[(x * 3) + 2] = x < 16 ? (byte)0 : (byte)255;
            }
        }

        byte[] jpeg = WithExifOrientation(LegacyCodecs.EncodeJpeg(image, 95), orientation: 6);
        RgbImage upright = LegacyCodecs.Decode(jpeg);

        Assert.Equal(16, upright.Width);
        Assert.Equal(32, upright.Height);
        Assert.True(upright.Row(4)[(8 * 3)] > 200, "top should be red");
        Assert.True(upright.Row(28)[(8 * 3) + 2] > 200, "bottom should be blue");
    }

    /// <summary>Inserts a minimal big-endian EXIF APP1 segment with one Orientation entry after SOI.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at offset 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, // Orientation, SHORT x1
            0, 0, 0, 0, // no next IFD
        ];
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        int segmentLength = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(segmentLength >> 8), (byte)segmentLength, .. payload];
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    /// <summary>A non-seekable stream that hands out at most one byte per read, like a slow socket.</summary>
    private sealed class OneByteStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty || _position == data.Length)
            {
                return 0;
            }

            buffer[0] = data[_position++];
            return 1;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
