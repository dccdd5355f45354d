using System.IO.Pipelines;
using EdgeCodec.Imaging;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Yuv;

public sealed class YuvFrameReaderTests
{
    /// <summary>A stream that hands out at most a few bytes per read, as a pipe or a socket may.</summary>
    private sealed class TrickleStream(byte[] data, int seed) : Stream
    {
        private readonly Random random = new(seed);
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, random.Next(1, 4096)), data.Length - position);
            data.AsSpan(position, n).CopyTo(buffer.AsSpan(offset, n));
            position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static (RgbImage[] Pictures, byte[] Video) Video(YuvLayout layout, int width, int height, int frames, YuvColorSpace space)
    {
        // Different frames: the photo's crop moves by a few pixels each frame, as a panning camera's would.
        var photo = ImageFile.Load(Path.Combine(TestPacks.RepositoryRoot, "samples", "media", "coffee.png"));
        var pictures = new RgbImage[frames];
        using var video = new MemoryStream();
        for (int f = 0; f < frames; f++)
        {
            var crop = new RgbImage(width, height);
            for (int y = 0; y < height; y++)
            {
                photo.Row(y + f).Slice(3 * 5 * f, 3 * width).CopyTo(crop.Row(y));
            }

            byte[] frame = YuvConversion.FromRgb(crop, layout, space);
            pictures[f] = YuvConversion.ToRgb(frame, layout, width, height, space);
            video.Write(frame);
        }

        return (pictures, video.ToArray());
    }

    [Theory]
    [InlineData(YuvLayout.Nv12, 96, 64, YuvColorSpace.Bt709Limited)]
    [InlineData(YuvLayout.I420, 75, 49, YuvColorSpace.Bt601Limited)]
    [InlineData(YuvLayout.Yuyv, 33, 20, YuvColorSpace.Bt601Full)]
    [InlineData(YuvLayout.Nv21, 1, 1, YuvColorSpace.Bt709Full)]
    public void Every_frame_of_a_trickling_video_is_read_as_its_bytes_convert(YuvLayout layout, int width, int height, YuvColorSpace space)
    {
        var (pictures, video) = Video(layout, width, height, 4, space);
        var reader = new YuvFrameReader(new TrickleStream(video, seed: width), layout, width, height, space);
        Assert.Equal(video.Length / 4, reader.FrameBytes);
        var image = new RgbImage(width, height);
        for (int f = 0; f < pictures.Length; f++)
        {
            Assert.True(reader.TryRead(image), $"frame {f}");
            Assert.Equal(pictures[f].Pixels, image.Pixels);
            Assert.Equal(f + 1, reader.FramesRead);
        }

        // The end between frames is the end of the video, and stays so.
        Assert.False(reader.TryRead(image));
        Assert.False(reader.TryRead(image));
        Assert.Equal(pictures[^1].Pixels, image.Pixels);
        Assert.Equal(pictures.Length, reader.FramesRead);
    }

    [Fact]
    public async Task Frames_arrive_through_a_pipe_as_a_camera_process_writes_them()
    {
        const int Width = 64, Height = 48;
        var (pictures, video) = Video(YuvLayout.I420, Width, Height, 5, YuvColorSpace.Bt601Limited);
        var pipe = new Pipe();

        // The writer sends uneven pieces with pauses, so the reader waits inside frames.
        var writer = Task.Run(async () =>
        {
            var random = new Random(7);
            for (int at = 0; at < video.Length;)
            {
                int n = Math.Min(random.Next(1, 3000), video.Length - at);
                await pipe.Writer.WriteAsync(video.AsMemory(at, n));
                at += n;
                if (random.Next(4) == 0)
                {
                    await Task.Delay(1);
                }
            }

            await pipe.Writer.CompleteAsync();
        });

        var reader = new YuvFrameReader(pipe.Reader.AsStream(), YuvLayout.I420, Width, Height);
        var image = new RgbImage(Width, Height);
        int frames = 0;
        while (await reader.TryReadAsync(image))
        {
            Assert.Equal(pictures[frames].Pixels, image.Pixels);
            frames++;
        }

        await writer;
        Assert.Equal(pictures.Length, frames);
    }

    [Fact]
    public async Task A_video_cut_inside_a_frame_delivers_the_whole_frames_then_says_where_it_ended()
    {
        const int Width = 40, Height = 30;
        var (pictures, video) = Video(YuvLayout.Nv12, Width, Height, 3, YuvColorSpace.Bt601Limited);
        int frameBytes = YuvConversion.FrameSize(YuvLayout.Nv12, Width, Height);
        byte[] cut = video[..((2 * frameBytes) + 100)];
        foreach (bool async in new[] { false, true })
        {
            var reader = new YuvFrameReader(new TrickleStream(cut, seed: 3), YuvLayout.Nv12, Width, Height);
            var image = new RgbImage(Width, Height);
            for (int f = 0; f < 2; f++)
            {
                Assert.True(async ? await reader.TryReadAsync(image) : reader.TryRead(image));
                Assert.Equal(pictures[f].Pixels, image.Pixels);
            }

            var e = async
                ? await Assert.ThrowsAsync<InvalidDataException>(() => reader.TryReadAsync(image).AsTask())
                : Assert.Throws<InvalidDataException>(() => reader.TryRead(image));
            Assert.Contains("100 bytes into frame 2", e.Message);
            Assert.Contains($"{frameBytes} bytes", e.Message);
            Assert.Equal(2, reader.FramesRead);
        }
    }

    [Fact]
    public void Bad_arguments_are_refused_with_a_message()
    {
        using var empty = new MemoryStream();
        Assert.Throws<ArgumentNullException>(() => new YuvFrameReader(null!, YuvLayout.Nv12, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new YuvFrameReader(empty, YuvLayout.Nv12, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new YuvFrameReader(empty, YuvLayout.Nv12, 2, RgbImage.MaxDimension + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new YuvFrameReader(empty, (YuvLayout)9, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new YuvFrameReader(empty, YuvLayout.Nv12, 2, 2, (YuvColorSpace)9));
        using var writeOnly = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        Assert.Contains("cannot be read", Assert.Throws<ArgumentException>(() => new YuvFrameReader(writeOnly, YuvLayout.Nv12, 2, 2)).Message);

        var reader = new YuvFrameReader(empty, YuvLayout.Nv12, 4, 4);
        Assert.Throws<ArgumentNullException>(() => reader.TryRead(null!));
        Assert.Contains("the frames are 4x4", Assert.Throws<ArgumentException>(() => reader.TryRead(new RgbImage(4, 2))).Message);
        Assert.False(reader.TryRead(new RgbImage(4, 4))); // an empty video has no frames
    }
}
