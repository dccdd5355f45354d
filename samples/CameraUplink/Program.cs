// Camera side: encodes every image of a folder, or every frame of raw YUV video (all layers up front), and streams them
// to host:port, reconnecting until the receiver has acknowledged everything. Loopback only in this repository's tests and docs.
// Usage: dotnet run --project samples/CameraUplink -- <image-folder | video.yuv | -> [host=127.0.0.1] [port=5599] [quality=1|auto|fit] [fps=5]
//        [--preview-layer] [--yuv LAYOUT:WIDTHxHEIGHT[:COLOURSPACE]]
// --yuv reads the first argument (a file, or "-" for standard input) as raw video: packed frames back to back, as
// `libcamera-vid --codec yuv420 -o -` (i420), `ffmpeg -pix_fmt nv12 -f rawvideo -` or a V4L2 capture write them.
// LAYOUT i420|nv12|nv21|yuyv, COLOURSPACE bt601 (default)|bt601-full|bt709|bt709-full (docs/cameras.md).
// With quality "auto" the camera paces frames at fps and picks each frame's setting of the pack's quality ladder (a
// level, with or without a residual layer) from the sender's link estimate (QualityAdaptation.ForLadder); "fit" paces the same way but encodes each frame into the best stream that fits the
// frame's link budget exactly (EncodeWithin, about two encodes a frame); with a number it sends every frame at that
// level as fast as the link takes them. --preview-layer sends each tile's hyper-latent ahead of its first group, so a
// player shows a whole blurred frame after a few percent of its bytes when the link stalls (docs/format.md, "The preview
// layer").
using System.Globalization;
using System.Net.Sockets;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Streaming;

bool previewLayer = args.Contains("--preview-layer");
args = [.. args.Where(a => a != "--preview-layer")];
int yuvAt = Array.IndexOf(args, "--yuv");
RawVideo? yuv = null;
if (yuvAt >= 0)
{
    yuv = RawVideo.Parse(yuvAt + 1 < args.Length ? args[yuvAt + 1] : "");
    args = [.. args[..yuvAt], .. args[(yuvAt + 2)..]];
}

string folder = args.Length > 0 ? args[0] : Path.Combine("samples", "media");
string host = args.Length > 1 ? args[1] : "127.0.0.1";
int port = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5599;
bool fit = args.Length > 3 && args[3] == "fit";
bool auto = fit || (args.Length > 3 && args[3] == "auto");
int quality = args.Length > 3 && !auto ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
double fps = args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 5;

var pack = ModelPack.LoadDefault();
// 256-px entropy tiles: a lost packet then costs a 256-px patch rather than the whole frame (files use the pack's
// larger tile, which costs fewer bits; docs/format.md, "Tiles"). A camera runs the int8 analysis where the pack has
// one: ~1.8x the fp32 analysis' speed on one core for 0.54 % more rate (docs/benchmarks.md, "The int8 analysis").
var analysis = pack.HasEntry(ModelPack.AnalysisInt8Entry) ? AnalysisArithmetic.Int8 : AnalysisArithmetic.Float32;
using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { TileSize = 256, Analysis = analysis, PreviewLayer = previewLayer });
var sender = new StreamSender(new StreamSenderOptions { ModelId = pack.ModelId, StreamId = 1 });
var interval = TimeSpan.FromSeconds(1 / fps);
// "auto" chooses among the ladder's settings (the first one that is the start level alone or with a layer); "fit"
// encodes to the budget and learns the scene per level.
var adaptation = fit || !auto
    ? new QualityAdaptation(pack.QualityLevels.Count, interval, initialLevel: quality)
    : QualityAdaptation.ForLadder(pack, interval, Math.Max(0, pack.QualityLadder.ToList().FindIndex(s => s.Level == quality)));
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

var produce = Task.Run(async () =>
{
    try
    {
        await ProduceAsync();
    }
    catch (Exception e) when (e is not OperationCanceledException)
    {
        cts.Cancel(); // stop the connection loop; `await produce` below reports the error
        throw;
    }
});

async Task ProduceAsync()
{
    uint frame = 0;
    int choice = adaptation.Current;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    await foreach (var (name, image) in Frames())
    {
        long pixels = (long)image.Width * image.Height;
        if (auto)
        {
            var due = adaptation.FrameInterval * frame; // a camera captures at its frame rate
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cts.Token);
            }

            choice = adaptation.Choose(pixels, sender.Link);
        }

        var link = sender.Link;
        var encoded = fit
            ? FitToLink(image, adaptation.FrameBudget(link), frame)
            : encoder.Encode(image, adaptation.Settings[choice], layers: 0, streamId: 1, frameIndex: frame, firstSequence: sender.NextSequence);
        quality = encoded.Header.QualityLevel;
        if (fit)
        {
            choice = quality; // the levels' adaptation learns from the level the fitted stream has
        }
        if (Environment.GetEnvironmentVariable("EDGECODEC_UPLINK_DUMP") is { Length: > 0 } dump)
        {
            // What was sent, as the receiver records it (a live stream: frame count 0): its store must end
            // byte-identical to these (device-tests/netns-stream.sh).
            Directory.CreateDirectory(dump);
            var h = encoded.Header;
            var live = ContainerHeader.Create(h.ModelId, h.Width, h.Height, h.TileWidth, h.TileHeight, h.LayerCount, frameCount: 0, h.QualityLevel, h.PreviewLayer);
            using var fs = File.Create(Path.Combine(dump, $"frame-{frame:D10}.ecx"));
            using var writer = new ContainerWriter(fs, live);
            foreach (var packet in encoded.Packets)
            {
                writer.Append(packet);
            }

            writer.Complete();
        }

        long wireBytes = await sender.EnqueueAsync(encoded, cts.Token);
        adaptation.Observe(choice, pixels, wireBytes);
        var stats = sender.Statistics;
        Console.WriteLine($"frame {frame}: {name} {image.Width}x{image.Height}, quality {quality}{(adaptation.Settings[choice].ResidualStep is { } step && !fit ? $"+r{step}" : "")}, {encoded.Header.LayerCount} layers, {encoded.Packets.Count} packets, {wireBytes} bytes on the link (estimate {link.Throughput / 1000:F1} kB/s, backlog {link.BacklogBytes} bytes; {stats.PacketsAcknowledged} packets acknowledged, {stats.PacketsRetransmitted} resent)");
        frame++;
    }

    sender.Complete();
}

// The pictures to send: a folder's PNG and JPEG files in name order, or each frame of raw YUV video as it arrives (one
// kept picture, converted into frame by frame: the encoder is done with it before the next frame is read).
async IAsyncEnumerable<(string Name, RgbImage Image)> Frames()
{
    if (yuv is not null)
    {
        await using var input = folder == "-" ? Console.OpenStandardInput() : File.OpenRead(folder);
        var reader = new YuvFrameReader(input, yuv.Layout, yuv.Width, yuv.Height, yuv.ColorSpace);
        var picture = new RgbImage(yuv.Width, yuv.Height);
        while (true)
        {
            try
            {
                if (!await reader.TryReadAsync(picture, cts.Token))
                {
                    break;
                }
            }
            catch (InvalidDataException e)
            {
                // A capture process stopped mid-frame (killed, disk full): the whole frames before it are still sent.
                Console.WriteLine($"{e.Message} The partial frame is dropped.");
                break;
            }

            yield return ($"{(folder == "-" ? "stdin" : Path.GetFileName(folder))}#{reader.FramesRead - 1}", picture);
        }

        yield break;
    }

    foreach (string path in Directory.EnumerateFiles(folder).Where(p => p.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
    {
        yield return (Path.GetFileName(path), ImageFile.Load(path));
    }
}

// The best stream whose LATENT messages fit the budget; below the smallest one, the lowest level with all its layers
// (the rate controller then defers its refinements, as for any frame that outgrows a dip).
EncodedImage FitToLink(RgbImage image, long budget, uint frame)
{
    try
    {
        return encoder.EncodeWithin(image, Math.Max(1, budget), StreamSender.LinkBytes, streamId: 1, frameIndex: frame, firstSequence: sender.NextSequence);
    }
    catch (ArgumentOutOfRangeException)
    {
        return encoder.Encode(image, 0, layers: 0, streamId: 1, frameIndex: frame, firstSequence: sender.NextSequence);
    }
}

// Until a session ends with BYE (RunAsync returns true): a link can fail after the last ACK and before the BYE, and
// only the BYE tells the player the stream is over.
bool finished = false;
while (!finished && !cts.IsCancellationRequested)
{
    try
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cts.Token);
        finished = await sender.RunAsync(client.GetStream(), cts.Token) && sender.IsFinished;
    }
    catch (Exception e) when (e is IOException or SocketException or TimeoutException)
    {
        Console.WriteLine($"link down ({e.Message}); retrying in 1 s");
        await Task.Delay(1000, cts.Token);
    }
    catch (OperationCanceledException) when (produce.IsFaulted)
    {
        break; // the producer failed (a bad image, a full disk): `await produce` reports why
    }
}

await produce;
var stats = sender.Statistics;
Console.WriteLine($"done: {stats.PacketsAcknowledged} packets acknowledged, {stats.PacketsRetransmitted} retransmitted, {stats.FramesDeferred} frames deferred, {stats.LayersBackfilled} layers back-filled, {stats.Connections} connection(s)");

/// <summary>The <c>--yuv</c> argument: LAYOUT:WIDTHxHEIGHT[:COLOURSPACE].</summary>
internal sealed record RawVideo(YuvLayout Layout, int Width, int Height, YuvColorSpace ColorSpace)
{
    public static RawVideo Parse(string text)
    {
        string[] parts = text.Split(':');
        string[] size = parts.Length > 1 ? parts[1].Split('x') : [];
        if (parts.Length is < 2 or > 3 || size.Length != 2)
        {
            throw new ArgumentException($"--yuv {text}: expected LAYOUT:WIDTHxHEIGHT[:COLOURSPACE], e.g. nv12:1280x720:bt709");
        }

        var layout = parts[0].ToLowerInvariant() switch
        {
            "i420" or "yu12" => YuvLayout.I420,
            "nv12" => YuvLayout.Nv12,
            "nv21" => YuvLayout.Nv21,
            "yuyv" or "yuy2" => YuvLayout.Yuyv,
            _ => throw new ArgumentException($"--yuv {text}: '{parts[0]}' is not i420, nv12, nv21 or yuyv"),
        };
        var space = parts.Length < 3 ? YuvColorSpace.Bt601Limited : parts[2].ToLowerInvariant() switch
        {
            "bt601" => YuvColorSpace.Bt601Limited,
            "bt601-full" or "jpeg" => YuvColorSpace.Bt601Full,
            "bt709" => YuvColorSpace.Bt709Limited,
            "bt709-full" => YuvColorSpace.Bt709Full,
            _ => throw new ArgumentException($"--yuv {text}: '{parts[2]}' is not bt601, bt601-full, bt709 or bt709-full"),
        };
        return new RawVideo(layout, int.Parse(size[0], CultureInfo.InvariantCulture), int.Parse(size[1], CultureInfo.InvariantCulture), space);
    }
}
