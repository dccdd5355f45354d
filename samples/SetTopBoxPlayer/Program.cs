// Set-top box side: listens on 127.0.0.1:port, receives a stream, stores every packet in <out>/store (one .ecx per
// frame, crash-safe) and writes a PNG per progressive step: frame-N-layers-L.png. With a store quota in bytes, the
// oldest acknowledged frames are compacted, then trimmed to their base layer, then deleted to stay within it.
// Usage: dotnet run --project samples/SetTopBoxPlayer -- [out=player-out] [port=5599] [backend=auto] [store-quota-bytes]
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Streaming;

string output = args.Length > 0 ? args[0] : "player-out";
int port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5599;
string backend = args.Length > 2 ? args[2] : "auto";
long? quota = args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : null;

CpuBackend.Register(); // the SIMD int8 engine (bit-exact with the reference, 1.2-1.5x ONNX Runtime); `auto` picks it
var pack = ModelPack.LoadDefault();
Directory.CreateDirectory(output);
using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = backend });
// A set-top box can lose power at any moment: acknowledge only what reached the disk (one sync per ACK).
using var receiver = new StreamReceiver(new StreamReceiverOptions
{
    ModelId = pack.ModelId, StoreDirectory = Path.Combine(output, "store"), Durability = StoreDurability.PowerLoss, Decoder = decoder,
    StoreQuotaBytes = quota,
    // Warm the decoder when a new picture size's HEADER arrives, while its layers are still on the way: on `cpu` the
    // first picture of a 40 kB/s link was shown 37-60 ms after its base layer instead of 142-175 (docs/benchmarks.md).
    WarmUpDecoder = true,
});
receiver.FrameProgress += (_, e) => Console.WriteLine($"frame {e.FrameIndex}: {e.Kind}, {e.CompleteLayers}/{e.Header.LayerCount} layers");
receiver.FrameDecoded += (_, e) =>
{
    string png = Path.Combine(output, $"frame-{e.Progress.FrameIndex}-layers-{e.Progress.CompleteLayers}.png");
    ImageFile.SavePng(e.Frame.Image, png);
    Console.WriteLine($"  shown {png} ({e.Frame.Timings.TotalSeconds * 1000:0} ms decode on {e.Frame.Backend})");
    decoder.Recycle(e.Frame.Image); // shown: the next step of this size is decoded into its pixels (thread-safe)
};
Console.WriteLine($"resuming from sequence {receiver.ResumeSequence}; listening on 127.0.0.1:{port}");

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
using var listener = new TcpListener(IPAddress.Loopback, port);
listener.Start();
while (!cts.IsCancellationRequested)
{
    using var socket = await listener.AcceptTcpClientAsync(cts.Token);
    try
    {
        if (await receiver.RunAsync(socket.GetStream(), cts.Token))
        {
            break;
        }
    }
    catch (Exception e) when (e is IOException or TimeoutException or StreamProtocolException)
    {
        Console.WriteLine($"session ended: {e.Message}");
    }
}

var stats = receiver.Statistics;
Console.WriteLine($"done: {stats.PacketsApplied} packets stored, {stats.Duplicates} duplicates ignored, {stats.FramesCompleted} frames complete; store: {Path.Combine(output, "store")}");
Console.WriteLine($"store: {stats.StoreBytes} bytes{(quota is null ? "" : $" (quota {quota}: {stats.FramesCompacted} frames compacted, {stats.FramesTrimmed} trimmed, {stats.FramesDeleted} deleted)")}");
