// Deploying a domain adapter to a device over the stream, end to end on loopback TCP:
//   1. a publisher signs the screen-content adapter (models/adapters/screen-content.ecadapter) with its key;
//   2. a device (StreamReceiver + AdapterRegistry that trusts that key) announces in HELLO that it holds no adapters;
//   3. the camera's StreamSender pushes the adapter in resumable chunks on the same connection, then the frames, whose
//      tiles the encoder routed to the adapter where it reconstructs better;
//   4. the device installs the adapter only after verifying signature and base model, and decodes the frames with it.
// Usage: dotnet run --project samples/AdapterDeploy -- [image=samples/media/screen.png] [out-dir=adapter-deploy-out]
using System.Net;
using System.Net.Sockets;
using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Streaming;

string root = FindRoot();
string imagePath = args.Length > 0 ? args[0] : Path.Combine(root, "samples", "media", "screen.png");
string outDir = args.Length > 1 ? args[1] : "adapter-deploy-out";
Directory.CreateDirectory(outDir);
var pack = ModelPack.LoadDefault();

// 1. Publisher: a key pair (devices get the public half) and a signed package.
var (privatePem, publicPem) = AdapterKeys.Create();
using var publisherKey = AdapterKeys.Import(privatePem);
var unsigned = AdapterPackage.Read(File.ReadAllBytes(Path.Combine(root, "models", "adapters", "screen-content.ecadapter")));
var adapter = unsigned.Sign(publisherKey);
Console.WriteLine($"publisher: signed {adapter.Manifest.Id} v{adapter.Manifest.Version} (expert {adapter.Manifest.ExpertId}, {adapter.Manifest.ParameterCount} parameters) with key {adapter.KeyId}");

// 2. Device: an adapter store that trusts the publisher, and a receiver that installs pushed adapters into it.
using var trust = new AdapterTrustStore();
trust.Add(publicPem);
var registry = new AdapterRegistry(Path.Combine(outDir, "device-adapters"), pack, trust);
using var receiver = new StreamReceiver(new StreamReceiverOptions
{
    ModelId = pack.ModelId,
    AdapterIds = [.. registry.List().Select(a => a.ExpertId)],
    InstallAdapter = bytes => registry.Install(bytes),
});
receiver.AdapterReceived += (_, e) => Console.WriteLine(e.Installed
    ? $"device: adapter for expert {e.ExpertId} ({e.Bytes} bytes) verified and installed"
    : $"device: adapter for expert {e.ExpertId} refused: {e.Problem}");

// 3. Camera: encode with per-tile routing between the base synthesis and the adapter, push the adapter first.
var image = ImageFile.Load(imagePath);
using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Experts = [adapter] });
var sender = new StreamSender(new StreamSenderOptions { ModelId = pack.ModelId, StreamId = 1, Adapters = [adapter] });
var encoded = encoder.Encode(image, quality: 3, streamId: 1);
int routed = encoded.ExpertsPerTile.Count(e => e == adapter.Manifest.ExpertId);
Console.WriteLine($"camera: {image.Width}x{image.Height}, {routed} of {encoded.ExpertsPerTile.Count} tiles routed to the adapter");
await sender.EnqueueAsync(encoded);
sender.Complete();

var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
int port = ((IPEndPoint)listener.LocalEndpoint).Port;
var device = Task.Run(async () =>
{
    using var socket = await listener.AcceptTcpClientAsync();
    await receiver.RunAsync(socket.GetStream());
});
using (var client = new TcpClient { NoDelay = true })
{
    await client.ConnectAsync(IPAddress.Loopback, port);
    await sender.RunAsync(client.GetStream());
}

await device;
listener.Stop();
var stats = sender.Statistics;
Console.WriteLine($"link: {stats.AdapterBytesSent} adapter bytes, {stats.PacketsAcknowledged} packets acknowledged; device holds [{string.Join(", ", registry.List().Select(a => $"{a.Id} v{a.ActiveVersion}"))}]");

// 4. Device decodes the received frame with and without the adapter (the base-only decode is what a device lacking it shows).
var withAdapter = Decode(registry);
var baseOnly = Decode(new AdapterSet(pack, []));
ImageFile.SavePng(withAdapter.Image, Path.Combine(outDir, "decoded-with-adapter.png"));
ImageFile.SavePng(baseOnly.Image, Path.Combine(outDir, "decoded-base-only.png"));
Console.WriteLine($"device: PSNR with adapter {Psnr(image, withAdapter.Image):F2} dB, base only {Psnr(image, baseOnly.Image):F2} dB "
    + $"(without it, {baseOnly.TilesWithoutAdapter.Count} of {baseOnly.ExpertsPerTile.Count} tiles fell back to the base); images in {outDir}");
return withAdapter.TilesWithoutAdapter.Count == 0 && registry.List().Count == 1 ? 0 : 1;

DecodedFrame Decode(IAdapterSource source)
{
    using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = "reference", Adapters = source });
    decoder.SetHeader(encoded.Header);
    foreach (var p in encoded.Packets)
    {
        decoder.SendPacket(p);
    }

    return decoder.DecodeFrame(0);
}

static double Psnr(RgbImage a, RgbImage b)
{
    double sum = 0;
    var pa = a.Pixels;
    var pb = b.Pixels;
    for (int i = 0; i < pa.Length; i++)
    {
        double d = pa[i] - pb[i];
        sum += d * d;
    }

    return 10 * Math.Log10(255.0 * 255.0 / (sum / pa.Length));
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "EdgeCodec.sln")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
