using EdgeCodec.Imaging;
using EdgeCodec.Tests.Codec;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Yuv;

public sealed class YuvConversionTests
{
    public static TheoryData<YuvColorSpace> ColorSpaces() => new(Enum.GetValues<YuvColorSpace>());

    [Theory]
    // BT.601 limited (the standard's 75 %-free primaries, as every BT.601 table lists them).
    [InlineData(YuvColorSpace.Bt601Limited, 16, 128, 128, 0, 0, 0)]
    [InlineData(YuvColorSpace.Bt601Limited, 235, 128, 128, 255, 255, 255)]
    [InlineData(YuvColorSpace.Bt601Limited, 81, 90, 240, 255, 0, 0)]
    [InlineData(YuvColorSpace.Bt601Limited, 145, 54, 34, 0, 255, 0)]
    [InlineData(YuvColorSpace.Bt601Limited, 41, 240, 110, 0, 0, 255)]
    // BT.709 limited.
    [InlineData(YuvColorSpace.Bt709Limited, 63, 102, 240, 255, 0, 0)]
    [InlineData(YuvColorSpace.Bt709Limited, 173, 42, 26, 0, 255, 0)]
    [InlineData(YuvColorSpace.Bt709Limited, 32, 240, 118, 0, 0, 255)]
    // JPEG/JFIF (BT.601 full range).
    [InlineData(YuvColorSpace.Bt601Full, 0, 128, 128, 0, 0, 0)]
    [InlineData(YuvColorSpace.Bt601Full, 255, 128, 128, 255, 255, 255)]
    [InlineData(YuvColorSpace.Bt601Full, 76, 85, 255, 254, 0, 0)]
    [InlineData(YuvColorSpace.Bt709Full, 54, 99, 255, 255, 0, 0)]
    public void Standard_colours_convert_to_their_published_values(YuvColorSpace space, int y, int u, int v, int r, int g, int b)
    {
        var image = YuvConversion.ToRgb([(byte)y, (byte)u, (byte)v], YuvLayout.I420, 1, 1, space);
        Assert.InRange(image.Pixels[0], r - 2, r + 2);
        Assert.InRange(image.Pixels[1], g - 2, g + 2);
        Assert.InRange(image.Pixels[2], b - 2, b + 2);

        // And back: the colour's YUV within one step of the published one (the tables round, and so do we).
        var rgb = new RgbImage(1, 1, [(byte)r, (byte)g, (byte)b]);
        byte[] yuv = YuvConversion.FromRgb(rgb, YuvLayout.I420, space);
        Assert.InRange(yuv[0], y - 1, y + 1);
        Assert.InRange(yuv[1], u - 1, u + 1);
        Assert.InRange(yuv[2], v - 1, v + 1);
    }

    [Theory]
    [MemberData(nameof(ColorSpaces))]
    public void Vector_kernel_equals_the_scalar_reference_on_random_and_extreme_rows(YuvColorSpace space)
    {
        var c = YuvCoefficients.For(space);
        var random = new Random(20261207 + (int)space);
        byte[] extremes = [0, 1, 15, 16, 17, 127, 128, 129, 234, 235, 236, 239, 240, 241, 254, 255];
        foreach (int width in Enumerable.Range(1, 70).Concat([255, 1921]))
        {
            for (int trial = 0; trial < 6; trial++)
            {
                byte[] y = new byte[width], u = new byte[(width + 1) / 2], v = new byte[(width + 1) / 2];
                if (trial < 3)
                {
                    random.NextBytes(y);
                    random.NextBytes(u);
                    random.NextBytes(v);
                }
                else
                {
                    // Every pairing of extreme values, which drives each channel into both clamps.
                    for (int i = 0; i < width; i++)
                    {
                        y[i] = extremes[(i + trial) % extremes.Length];
                    }

                    for (int i = 0; i < u.Length; i++)
                    {
                        u[i] = extremes[((i * 3) + trial) % extremes.Length];
                        v[i] = extremes[((i * 7) + (trial * 5)) % extremes.Length];
                    }
                }

                byte[] reference = new byte[width * 3], vector = new byte[width * 3], dispatched = new byte[width * 3];
                YuvRowKernels.ToRgbScalar(y, u, v, reference, c);

                // The vector kernel, called directly (it runs in software where vectors are not accelerated), then
                // the scalar tail, exactly as the dispatch does.
                int done = YuvRowKernels.ToRgbVector(y, u, v, vector, c);
                YuvRowKernels.ToRgbScalar(y.AsSpan(done), u.AsSpan(done / 2), v.AsSpan(done / 2), vector.AsSpan(done * 3), c);
                YuvRowKernels.ToRgb(y, u, v, dispatched, c);
                Assert.Equal(width / 16 * 16, done);
                Assert.Equal(reference, vector);
                Assert.Equal(reference, dispatched);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ColorSpaces))]
    public void Rgb_to_yuv_vector_kernels_equal_their_scalar_references_on_random_and_extreme_rows(YuvColorSpace space)
    {
        var c = YuvCoefficients.For(space);
        var random = new Random(1207 + (int)space);
        byte[] extremes = [0, 1, 127, 128, 254, 255];
        foreach (int width in Enumerable.Range(1, 70).Concat([255, 1921]))
        {
            for (int trial = 0; trial < 4; trial++)
            {
                byte[] top = new byte[3 * width], bottom = new byte[3 * width];
                random.NextBytes(top);
                random.NextBytes(bottom);
                if (trial >= 2)
                {
                    // Saturated colours drive Y, U and V into their clamps (full-range chroma of pure primaries).
                    for (int i = 0; i < top.Length; i++)
                    {
                        top[i] = extremes[random.Next(extremes.Length)];
                        bottom[i] = trial == 3 ? top[i] : extremes[random.Next(extremes.Length)];
                    }
                }

                byte[] yReference = new byte[width], yVector = new byte[width], yDispatched = new byte[width];
                RgbToYuvKernels.LumaScalar(top, yReference, c);
                int done = RgbToYuvKernels.LumaVector(top, yVector, c);
                RgbToYuvKernels.LumaScalar(top.AsSpan(3 * done), yVector.AsSpan(done), c);
                RgbToYuvKernels.Luma(top, yDispatched, c);
                Assert.Equal(width / 16 * 16, done);
                Assert.Equal(yReference, yVector);
                Assert.Equal(yReference, yDispatched);

                int cw = (width + 1) / 2;
                byte[] uReference = new byte[cw], vReference = new byte[cw], uVector = new byte[cw], vVector = new byte[cw];
                RgbToYuvKernels.ChromaScalar(top, bottom, uReference, vReference, c);
                done = RgbToYuvKernels.ChromaVector(top, bottom, uVector, vVector, c);
                RgbToYuvKernels.ChromaScalar(top.AsSpan(3 * done), bottom.AsSpan(3 * done), uVector.AsSpan(done / 2), vVector.AsSpan(done / 2), c);
                Assert.Equal(uReference, uVector);
                Assert.Equal(vReference, vVector);
                RgbToYuvKernels.Chroma(top, bottom, uVector, vVector, c);
                Assert.Equal(uReference, uVector);
                Assert.Equal(vReference, vVector);
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(33, 7)]
    [InlineData(40, 2)]
    public void Rgb_to_yuv_chroma_is_the_rounded_mean_of_the_pixels_each_sample_covers(int width, int height)
    {
        // The definition, pixel by pixel, with the edge blocks' smaller counts: what the kernels' repeated edge rows and
        // columns must come to.
        var image = new RgbImage(width, height);
        new Random(width + (100 * height)).NextBytes(image.Pixels);
        foreach (var space in Enum.GetValues<YuvColorSpace>())
        {
            var c = YuvCoefficients.For(space);
            byte[] frame = YuvConversion.FromRgb(image, YuvLayout.I420, space);
            int cw = (width + 1) / 2, ch = (height + 1) / 2;
            for (int cy = 0; cy < ch; cy++)
            {
                for (int cx = 0; cx < cw; cx++)
                {
                    long su = 0, sv = 0, count = 0;
                    for (int y = 2 * cy; y < Math.Min((2 * cy) + 2, height); y++)
                    {
                        for (int x = 2 * cx; x < Math.Min((2 * cx) + 2, width); x++)
                        {
                            int p = 3 * ((y * width) + x);
                            su += (image.Pixels[p] * c.ToU.R) + (image.Pixels[p + 1] * c.ToU.G) + (image.Pixels[p + 2] * c.ToU.B);
                            sv += (image.Pixels[p] * c.ToV.R) + (image.Pixels[p + 1] * c.ToV.G) + (image.Pixels[p + 2] * c.ToV.B);
                            count++;
                        }
                    }

                    static int Mean(long sum, long count) => (int)Math.Clamp(128 + (long)Math.Floor(((double)sum / count / (1 << YuvCoefficients.Bits)) + 0.5), 0, 255);
                    Assert.Equal(Mean(su, count), frame[(width * height) + (cy * cw) + cx]);
                    Assert.Equal(Mean(sv, count), frame[(width * height) + (cw * ch) + (cy * cw) + cx]);
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(17, 2)]
    [InlineData(64, 48)]
    [InlineData(37, 29)]
    public void Every_layout_and_stride_of_the_same_samples_gives_the_same_picture(int width, int height)
    {
        var random = new Random((width * 1000) + height);
        int cw = (width + 1) / 2, ch = (height + 1) / 2;
        byte[] y = new byte[width * height], u = new byte[cw * ch], v = new byte[cw * ch];
        random.NextBytes(y);
        random.NextBytes(u);
        random.NextBytes(v);
        byte[] i420 = [.. y, .. u, .. v];
        byte[] nv12 = [.. y, .. u.Zip(v).SelectMany(p => new[] { p.First, p.Second })];
        byte[] nv21 = [.. y, .. u.Zip(v).SelectMany(p => new[] { p.Second, p.First })];

        // YUYV is 4:2:2: each row carries its 4:2:0 chroma row (an odd width's last pair repeats its Y).
        byte[] yuyv = new byte[4 * cw * height];
        for (int row = 0; row < height; row++)
        {
            for (int pair = 0; pair < cw; pair++)
            {
                int x = 2 * pair, at = 4 * ((row * cw) + pair);
                yuyv[at] = y[(row * width) + x];
                yuyv[at + 1] = u[((row / 2) * cw) + pair];
                yuyv[at + 2] = y[(row * width) + Math.Min(x + 1, width - 1)];
                yuyv[at + 3] = v[((row / 2) * cw) + pair];
            }
        }

        foreach (var space in Enum.GetValues<YuvColorSpace>())
        {
            var expected = YuvConversion.ToRgb(i420, YuvLayout.I420, width, height, space);
            Assert.Equal(expected.Pixels, YuvConversion.ToRgb(nv12, YuvLayout.Nv12, width, height, space).Pixels);
            Assert.Equal(expected.Pixels, YuvConversion.ToRgb(nv21, YuvLayout.Nv21, width, height, space).Pixels);
            Assert.Equal(expected.Pixels, YuvConversion.ToRgb(yuyv, YuvLayout.Yuyv, width, height, space).Pixels);

            // The same planes with padded rows (a V4L2 bytesperline, an Android rowStride), chroma as separate planes.
            byte[] Pad(byte[] plane, int rowBytes, int rows, int stride)
            {
                byte[] padded = new byte[(stride * (rows - 1)) + rowBytes];
                random.NextBytes(padded); // padding is never read
                for (int row = 0; row < rows; row++)
                {
                    plane.AsSpan(row * rowBytes, rowBytes).CopyTo(padded.AsSpan(row * stride));
                }

                return padded;
            }

            var strided = new RgbImage(width, height);
            YuvConversion.ToRgb(YuvLayout.I420, Pad(y, width, height, width + 13), width + 13, Pad(u, cw, ch, cw + 5), cw + 5,
                Pad(v, cw, ch, cw + 64), cw + 64, strided, space);
            Assert.Equal(expected.Pixels, strided.Pixels);
            YuvConversion.ToRgb(YuvLayout.Nv12, Pad(y, width, height, width + 1), width + 1, Pad(nv12[(width * height)..], 2 * cw, ch, (2 * cw) + 30), (2 * cw) + 30,
                default, 0, strided, space);
            Assert.Equal(expected.Pixels, strided.Pixels);
        }
    }

    [Theory]
    [MemberData(nameof(ColorSpaces))]
    public void A_real_photo_survives_the_round_trip_through_every_layout(YuvColorSpace space)
    {
        var photo = ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));
        foreach (var layout in Enum.GetValues<YuvLayout>())
        {
            byte[] frame = YuvConversion.FromRgb(photo, layout, space);
            Assert.Equal(YuvConversion.FrameSize(layout, photo.Width, photo.Height), frame.Length);
            var back = YuvConversion.ToRgb(frame, layout, photo.Width, photo.Height, space);

            // Chroma subsampling and 8-bit YUV cost something, not much: measured 38.8 dB (I420, BT.709 limited) to 41.5 dB (YUYV).
            double psnr = CodecFixture.Psnr(photo, back);
            Assert.True(psnr > 34, $"{layout} {space}: {psnr:F2} dB");

            // Converting the picture again changes little: the conversions are each other's inverse up to rounding.
            byte[] again = YuvConversion.FromRgb(back, layout, space);
            Assert.True(frame.Zip(again).Count(p => Math.Abs(p.First - p.Second) > 1) < frame.Length / 100, $"{layout} {space}");
        }
    }

    [Theory]
    [MemberData(nameof(ColorSpaces))]
    public void Grey_stays_grey_and_keeps_its_level(YuvColorSpace space)
    {
        var ramp = new RgbImage(256, 2);
        for (int i = 0; i < ramp.Pixels.Length; i++)
        {
            ramp.Pixels[i] = (byte)(i / 3 % 256);
        }

        byte[] yuv = YuvConversion.FromRgb(ramp, YuvLayout.I420, space);
        Assert.All(yuv.AsSpan(256 * 2).ToArray(), c => Assert.Equal(128, c)); // no chroma at all
        var back = YuvConversion.ToRgb(yuv, YuvLayout.I420, 256, 2, space);
        for (int p = 0; p < 256 * 2; p++)
        {
            Assert.Equal(back.Pixels[3 * p], back.Pixels[(3 * p) + 1]);
            Assert.Equal(back.Pixels[3 * p], back.Pixels[(3 * p) + 2]);
            Assert.InRange(back.Pixels[3 * p] - ramp.Pixels[3 * p], -1, 1); // limited range has 220 levels for 256
        }
    }

    [Fact]
    public void Frame_sizes_round_the_chroma_planes_up()
    {
        Assert.Equal(1920 * 1080 * 3 / 2, YuvConversion.FrameSize(YuvLayout.Nv12, 1920, 1080));
        Assert.Equal(15 + (2 * 2 * 3), YuvConversion.FrameSize(YuvLayout.I420, 3, 5));
        Assert.Equal(4 * 2 * 5, YuvConversion.FrameSize(YuvLayout.Yuyv, 3, 5));
        Assert.Equal(1920 * 1080 * 2, YuvConversion.FrameSize(YuvLayout.Yuyv, 1920, 1080));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(37, 29)]
    [InlineData(64, 48)]
    public void Rgb_to_padded_planes_writes_the_packed_frames_samples_and_leaves_the_padding_alone(int width, int height)
    {
        var random = new Random((width * 1000) + height + 7);
        var image = new RgbImage(width, height);
        random.NextBytes(image.Pixels);
        int cw = (width + 1) / 2, ch = (height + 1) / 2;

        // Each plane in a buffer filled with a marker, rows padded to a pitch, as a display plane or an aligned encoder
        // input is; afterwards the rows hold the packed frame's rows and every other byte still holds the marker.
        byte[] Plane(int rowBytes, int rows, int stride) => Enumerable.Repeat((byte)0xA5, (stride * (rows - 1)) + rowBytes + 11).ToArray();
        void AssertRows(byte[] packed, int packedAt, byte[] plane, int rowBytes, int rows, int stride, string what)
        {
            for (int at = 0; at < plane.Length; at++)
            {
                int row = at / stride, column = at % stride;
                if (row < rows && column < rowBytes)
                {
                    Assert.True(packed[packedAt + (row * rowBytes) + column] == plane[at], $"{what}: row {row}, byte {column}");
                }
                else
                {
                    Assert.True(plane[at] == 0xA5, $"{what}: padding at {at} was written");
                }
            }
        }

        foreach (var space in Enum.GetValues<YuvColorSpace>())
        {
            byte[] i420 = YuvConversion.FromRgb(image, YuvLayout.I420, space);
            byte[] y = Plane(width, height, width + 9), u = Plane(cw, ch, cw + 3), v = Plane(cw, ch, cw + 32);
            YuvConversion.FromRgb(image, YuvLayout.I420, y, width + 9, u, cw + 3, v, cw + 32, space);
            AssertRows(i420, 0, y, width, height, width + 9, $"I420 Y {space}");
            AssertRows(i420, width * height, u, cw, ch, cw + 3, $"I420 U {space}");
            AssertRows(i420, (width * height) + (cw * ch), v, cw, ch, cw + 32, $"I420 V {space}");

            foreach (var layout in new[] { YuvLayout.Nv12, YuvLayout.Nv21 })
            {
                byte[] nv = YuvConversion.FromRgb(image, layout, space);
                byte[] luma = Plane(width, height, width + 1), chroma = Plane(2 * cw, ch, (2 * cw) + 30);
                YuvConversion.FromRgb(image, layout, luma, width + 1, chroma, (2 * cw) + 30, default, 0, space);
                AssertRows(nv, 0, luma, width, height, width + 1, $"{layout} Y {space}");
                AssertRows(nv, width * height, chroma, 2 * cw, ch, (2 * cw) + 30, $"{layout} chroma {space}");
            }

            byte[] yuyv = YuvConversion.FromRgb(image, YuvLayout.Yuyv, space), packed = Plane(4 * cw, height, (4 * cw) + 64);
            YuvConversion.FromRgb(image, YuvLayout.Yuyv, packed, (4 * cw) + 64, default, 0, default, 0, space);
            AssertRows(yuyv, 0, packed, 4 * cw, height, (4 * cw) + 64, $"YUYV {space}");
        }
    }

    [Fact]
    public void Chroma_interleave_vector_paths_equal_their_scalar_references_on_every_length()
    {
        var random = new Random(51);
        for (int n = 0; n < 200; n++)
        {
            int count = n < 100 ? n : random.Next(100, 3000); // pairs (NV) or pixel pairs (YUYV)
            byte[] pairs = new byte[2 * count], packed = new byte[4 * count], luma = new byte[2 * count], u = new byte[count], v = new byte[count];
            random.NextBytes(pairs);
            random.NextBytes(packed);
            random.NextBytes(luma);
            random.NextBytes(u);
            random.NextBytes(v);

            // Each operation three ways: the scalar reference, the vector path with the reference for its tail, the dispatch.
            byte[][] Three(Func<int> size, Action<byte[][]> reference, Func<byte[][], int> vector, Action<byte[][], int> tail, Action<byte[][]> dispatched)
            {
                byte[][] r = [new byte[size()], new byte[size()], new byte[size()]], w = [new byte[size()], new byte[size()], new byte[size()]], d = [new byte[size()], new byte[size()], new byte[size()]];
                reference(r);
                tail(w, vector(w));
                dispatched(d);
                for (int k = 0; k < 3; k++)
                {
                    Assert.True(r[k].AsSpan().SequenceEqual(w[k]) && r[k].AsSpan().SequenceEqual(d[k]), $"length {count}, output {k}");
                }

                return r;
            }

            var split = Three(() => count,
                o => ChromaInterleave.SplitScalar(pairs, o[0], o[1]),
                o => ChromaInterleave.SplitVector(pairs, o[0], o[1]),
                (o, i) => ChromaInterleave.SplitScalar(pairs.AsSpan(2 * i), o[0].AsSpan(i), o[1].AsSpan(i)),
                o => ChromaInterleave.Split(pairs, o[0], o[1]));
            Assert.Equal(pairs.Where((_, i) => i % 2 == 0), split[0]);
            Three(() => 2 * count,
                o => ChromaInterleave.MergeScalar(split[0], split[1], o[0]),
                o => ChromaInterleave.MergeVector(split[0], split[1], o[0]),
                (o, i) => ChromaInterleave.MergeScalar(split[0].AsSpan(i), split[1].AsSpan(i), o[0].AsSpan(2 * i)),
                o => ChromaInterleave.Merge(split[0], split[1], o[0]));

            // YUYV both ways; the outputs are luma (2 per pair), U and V, sized by the largest.
            var yuyv = Three(() => 2 * count,
                o => ChromaInterleave.SplitYuyvScalar(packed, o[0], o[1].AsSpan(0, count), o[2].AsSpan(0, count)),
                o => ChromaInterleave.SplitYuyvVector(packed, o[0], o[1].AsSpan(0, count), o[2].AsSpan(0, count)),
                (o, i) => ChromaInterleave.SplitYuyvScalar(packed.AsSpan(4 * i), o[0].AsSpan(2 * i), o[1].AsSpan(i, count - i), o[2].AsSpan(i, count - i)),
                o => ChromaInterleave.SplitYuyv(packed, o[0], o[1].AsSpan(0, count), o[2].AsSpan(0, count)));
            Assert.Equal(packed.Where((_, i) => i % 4 == 3), yuyv[2].Take(count));
            var merged = Three(() => 4 * count,
                o => ChromaInterleave.MergeYuyvScalar(luma, u, v, o[0]),
                o => ChromaInterleave.MergeYuyvVector(luma, u, v, o[0]),
                (o, i) => ChromaInterleave.MergeYuyvScalar(luma.AsSpan(2 * i), u.AsSpan(i), v.AsSpan(i), o[0].AsSpan(4 * i)),
                o => ChromaInterleave.MergeYuyv(luma, u, v, o[0]));
            Assert.Equal(u, merged[0].Where((_, i) => i % 4 == 1));
        }
    }

    [Fact]
    public void Bad_frames_and_arguments_are_refused_with_a_message()
    {
        var image = new RgbImage(4, 4);
        var shortFrame = Assert.Throws<ArgumentException>(() => YuvConversion.ToRgb(new byte[23], YuvLayout.I420, 4, 4));
        Assert.Contains("4x4 I420 frame is 24 bytes; got 23", shortFrame.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => YuvConversion.FromRgb(image, YuvLayout.Nv12, new byte[10]));
        var stride = Assert.Throws<ArgumentException>(() =>
            YuvConversion.ToRgb(YuvLayout.Nv12, new byte[16], 4, new byte[8], 3, default, 0, image));
        Assert.Contains("UV plane's stride 3 is shorter than its row of 4 bytes", stride.Message, StringComparison.Ordinal);
        var plane = Assert.Throws<ArgumentException>(() =>
            YuvConversion.ToRgb(YuvLayout.I420, new byte[16], 4, new byte[4], 2, new byte[3], 2, image));
        Assert.Contains("V plane has 3 bytes", plane.Message, StringComparison.Ordinal);
        Assert.Equal("plane2", plane.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => YuvConversion.ToRgb(new byte[24], (YuvLayout)9, 4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => YuvConversion.ToRgb(new byte[24], YuvLayout.I420, 4, 4, (YuvColorSpace)4));
        Assert.Throws<ArgumentOutOfRangeException>(() => YuvConversion.FrameSize(YuvLayout.I420, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => YuvConversion.FrameSize(YuvLayout.I420, RgbImage.MaxDimension + 1, 4));
        Assert.Throws<ArgumentNullException>(() => YuvConversion.FromRgb(null!, YuvLayout.I420));
        var outStride = Assert.Throws<ArgumentException>(() =>
            YuvConversion.FromRgb(image, YuvLayout.Yuyv, new byte[64], 7, default, 0, default, 0));
        Assert.Contains("YUYV plane's stride 7 is shorter than its row of 8 bytes", outStride.Message, StringComparison.Ordinal);
        var outPlane = Assert.Throws<ArgumentException>(() =>
            YuvConversion.FromRgb(image, YuvLayout.Nv21, new byte[16], 4, new byte[7], 4, default, 0));
        Assert.Contains("VU plane has 7 bytes; 2 rows of stride 4 need 8", outPlane.Message, StringComparison.Ordinal);
        Assert.Equal("plane1", outPlane.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => YuvConversion.FromRgb(image, (YuvLayout)9, new byte[64], 8, default, 0, default, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => YuvConversion.FromRgb(image, YuvLayout.Yuyv, new byte[64], 8, default, 0, default, 0, (YuvColorSpace)4));
    }
}
