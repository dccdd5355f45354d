// QuickStart: encode the bundled sample pictures with the default model and its signed domain adapters
// (routed per tile by the encoder), decode them on the best available backend, and compare with JPEG at the
// same file size.
//
//   dotnet run --project samples/QuickStart -c Release [-- --quality N] [--out DIR]
using System.Globalization;
using EdgeCodec.Adapters;
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Codec;
using EdgeCodec.Evaluation;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

int quality = 3;
string outDir = Path.Combine(Path.GetTempPath(), "edgecodec-quickstart");
for (int i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--quality")
    {
        quality = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    }
    else if (args[i] == "--out")
    {
        outDir = args[i + 1];
    }
}

CpuBackend.Register(); // the SIMD int8 engine: bit-exact with the reference, picked by automatic selection
var pack = ModelPack.LoadDefault();
Console.WriteLine($"model {pack.Name} ({pack.Sha256[..12]}), {pack.DecoderKmacPerPixel:F1} kMAC/pixel, quality {quality} of 0..{pack.QualityLevels.Count - 1}");
Directory.CreateDirectory(outDir);
string media = FindMedia();

// The domain adapters shipped beside the pack, each verified against the trusted publisher keys before use.
string adapterDir = Path.Combine(Path.GetDirectoryName(ModelPack.FindDefaultPath())!, "adapters");
var adapters = new List<AdapterPackage>();
if (Directory.Exists(Path.Combine(adapterDir, "trust")))
{
    using var trust = AdapterTrustStore.FromDirectory(Path.Combine(adapterDir, "trust"));
    foreach (string file in Directory.GetFiles(adapterDir, "*.ecadapter").Order(StringComparer.Ordinal))
    {
        var adapter = AdapterPackage.Read(File.ReadAllBytes(file));
        adapter.VerifySignature(trust);
        if (adapter.Manifest.BaseModelSha256 == pack.Sha256)
        {
            adapters.Add(adapter);
        }
    }
}

var names = adapters.ToDictionary(a => a.Manifest.ExpertId, a => a.Manifest.Id);
Console.WriteLine($"adapters: {(adapters.Count == 0 ? "none" : string.Join(", ", names.Values))}");
using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Adapters = new AdapterSet(pack, adapters) }); // kept for every picture
using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Experts = adapters });
Console.WriteLine($"{"image",-14} {"bytes",8} {"bpp",7} {"PSNR",7} {"decode",9} {"backend",-10} {"synthesis",-16} | {"JPEG q",6} {"bytes",8} {"PSNR",7}");
// With a residual layer in the pack, each picture is also coded at the first setting of the pack's quality ladder
// that adds one on top of this quality level (docs/format.md, "The residual layer").
var refined = pack.QualityLadder.FirstOrDefault(s => s.ResidualStep is not null && s.Level >= quality);
if (refined is not null)
{
    Console.WriteLine($"rows marked +r: quality {refined.Level} with a residual layer at step {pack.ResidualSteps[refined.ResidualStep!.Value]:0.##} pixel values");
}

foreach (string file in Directory.GetFiles(media, "*.png").Order(StringComparer.Ordinal))
{
    var image = ImageFile.Load(file);
    string name = Path.GetFileNameWithoutExtension(file);
    Row(image, name, encoder.Encode(image, quality));
    if (refined is not null)
    {
        Row(image, name + " +r", encoder.Encode(image, refined));
    }
}

Console.WriteLine($"containers and decoded PNGs in {outDir}");

void Row(RgbImage image, string name, EncodedImage encoded)
{
    string container = Path.Combine(outDir, name.Replace(" +r", ".residual", StringComparison.Ordinal) + ".ecx");
    using (var fs = File.Create(container))
    {
        encoded.WriteContainer(fs);
    }

    using var input = File.OpenRead(container);
    var (frame, _) = decoder.Decode(input);
    string synthesis = string.Join("+", frame.ExpertsPerTile.Distinct().Order().Select(e => e == 0 ? "base" : names[e]));
    ImageFile.SavePng(frame.Image, Path.ChangeExtension(container, ".decoded.png"));
    long bytes = new FileInfo(container).Length;
    double psnr = Metrics.Psnr(image, frame.Image);

    // JPEG at the file size closest to ours.
    var (jq, jbytes, jpsnr) = Enumerable.Range(1, 100)
        .Select(q => (Q: q, Data: LegacyCodecs.EncodeJpeg(image, q)))
        .MinBy(j => Math.Abs(j.Data.Length - bytes)) is var best
            ? (best.Q, best.Data.Length, Metrics.Psnr(image, LegacyCodecs.Decode(best.Data)))
            : default;
    Console.WriteLine($"{name,-14} {bytes,8} {bytes * 8.0 / image.PixelCount,7:F3} {psnr,7:F2} {frame.Timings.TotalSeconds * 1000,7:F0}ms {frame.Backend,-10} {synthesis,-16} | {jq,6} {jbytes,8} {jpsnr,7:F2}");
}

static string FindMedia()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "samples", "media");
        if (Directory.Exists(candidate))
        {
            return candidate;
        }
    }

    throw new DirectoryNotFoundException("samples/media not found above " + AppContext.BaseDirectory);
}
