// Plays back a store folder or a single .ecx, complete or cut short (e.g. by a power loss): decodes whatever survived
// and reports per frame what was recovered.
// Usage: dotnet run --project samples/OfflinePlayback -- <store-folder-or-file.ecx> [out=playback-out] [backend=auto]
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

string input = args.Length > 0 ? args[0] : Path.Combine("player-out", "store");
string output = args.Length > 1 ? args[1] : "playback-out";
string backend = args.Length > 2 ? args[2] : "auto";
var files = Directory.Exists(input) ? Directory.GetFiles(input, "*.ecx").Order(StringComparer.Ordinal).ToArray() : [input];
var cpu = CpuBackend.Register(); // the SIMD int8 engine, bit-exact with the reference; `auto` picks it
Console.WriteLine($"cpu backend: {cpu.Isa} path (this CPU: {CpuBackend.HardwareIsa})");
if (CpuBackend.IsaShortfall is { } shortfall)
{
    Console.Error.WriteLine($"warning: {shortfall}"); // e.g. a Native AOT build for a baseline instruction set
}

var pack = ModelPack.LoadDefault();
Directory.CreateDirectory(output);
using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = backend }); // one decoder for every file
int exit = 0;
foreach (string file in files)
{
    try
    {
        using var stream = File.OpenRead(file);
        var (frame, read) = decoder.Decode(stream);
        string png = Path.Combine(output, Path.GetFileNameWithoutExtension(file) + ".png");
        ImageFile.SavePng(frame.Image, png);
        Console.WriteLine($"{Path.GetFileName(file)}: {read.Status}, {read.Packets.Count} packets, layers per tile [{string.Join(',', frame.LayersPerTile)}] of {frame.ExpectedLayers}, missing tiles {frame.MissingTiles.Count} -> {png}");
        decoder.Recycle(frame.Image); // written: the next picture of this size is decoded into its pixels
    }
    catch (EdgeCodec.EdgeCodecFormatException e)
    {
        Console.WriteLine($"{Path.GetFileName(file)}: unreadable ({e.Message})");
        exit = 1;
    }
}

return exit;
