using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary>
/// <c>edgecodec bench --backends reference,onnx,onnx-fp32 --threads 1,2 [--image IN.png] [--encode [--analysis Float32,Int8]] [--json OUT.json]</c>:
/// whole-image decode time per backend and thread count with a kept decoder (and a decoder made for one picture), measured in one run on the same stream; with <c>--encode</c>
/// also the one-pass encoder's time per thread count (what a camera spends per picture).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var image = new Option<FileInfo?>("--image") { Description = "Image to encode once and decode repeatedly (default: samples/media/astronaut.png)" };
        var backends = new Option<string>("--backends") { Description = "Comma-separated backends", DefaultValueFactory = _ => "reference,onnx,onnx-fp32" };
        var threads = new Option<string>("--threads") { Description = "Comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var repeat = new Option<int>("--repeat") { Description = "Timed decodes per configuration (median is reported)", DefaultValueFactory = _ => 5 };
        var quality = new Option<int>("--quality", "-q") { Description = "Quality level", DefaultValueFactory = _ => 2 };
        var residual = new Option<int?>("--residual", "-r") { Description = "Add a residual layer with this step index of the pack" };
        var region = CommonOptions.SynthesisRegion();
        var tileSize = CommonOptions.TileSize();
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var encode = new Option<bool>("--encode") { Description = "Also time the one-pass encoder (analysis, entropy coding and, with --residual, the residual layer) per thread count" };
        var analyses = new Option<string>("--analysis")
        {
            Description = "With --encode: comma-separated analysis arithmetics to time, Float32 and/or Int8 (the int8 analysis needs a pack exported since session 41); default: both where the pack has the int8 one",
            DefaultValueFactory = _ => "auto",
        };
        var command = new Command("bench", "Benchmark whole-image decoding per backend (not a test: numbers go to docs/benchmarks.md)")
            { image, backends, threads, repeat, quality, residual, region, tileSize, model, json, encode, analyses };
        command.SetAction(r => CliRunner.Run(() =>
        {
            string? jsonPath = r.GetValue(json) is { } jsonOption ? CliFiles.Output(jsonOption) : null; // refused before any work
            var pack = CliRunner.LoadPack(r.GetValue(model));
            string path = r.GetValue(image)?.FullName ?? DefaultImage();
            var picture = ImageFile.Load(path);
            var setting = new Models.QualitySetting(r.GetValue(quality), r.GetValue(residual));
            byte[] container;
            using (var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { TileSize = r.GetValue(tileSize) }))
            {
                container = encoder.Encode(picture, setting).ToContainerBytes();
            }

            int[] threadCounts = r.GetRequiredValue(threads).Split(',')
                .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var rows = new List<BenchRow>();
            string[] names = r.GetRequiredValue(backends).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // Warm every backend before timing any (tiered JIT, ORT session caches), so the order of --backends does
            // not bias the ratios: the first backend measured used to pay the others' warm-up.
            foreach (var backend in names)
            {
                Warm(pack, container, backend, r.GetValue(region));
            }

            foreach (var backend in names)
            {
                foreach (int t in threadCounts)
                {
                    rows.Add(Measure(pack, container, backend, t, Math.Max(1, r.GetValue(repeat)), r.GetValue(region)));
                }
            }

            var withRatio = rows.Select(row =>
            {
                var onnx = rows.FirstOrDefault(o => o.Backend == "onnx" && o.Threads == row.Threads);
                return row with { RatioVsOnnx = onnx is null ? null : row.MegapixelsPerSecond / onnx.MegapixelsPerSecond };
            }).ToList();
            var table = new Table().AddColumns("backend", "threads", "decode ms", "entropy ms", "hyper ms", "synthesis ms", "residual ms", "MP/s", "x onnx", "new decoder ms", "warm-up ms", "first ms after it", "MB allocated").Border(TableBorder.Rounded);
            foreach (var row in withRatio)
            {
                table.AddRow(row.Backend, $"{row.Threads}", $"{row.DecodeSeconds * 1000:F1}", $"{row.EntropySeconds * 1000:F1}", $"{row.HyperSeconds * 1000:F1}",
                    $"{row.SynthesisSeconds * 1000:F1}", $"{row.ResidualSeconds * 1000:F1}", $"{row.MegapixelsPerSecond:F3}", row.RatioVsOnnx is { } x ? $"{x:F2}" : "-", $"{row.NewDecoderSeconds * 1000:F1}",
                    $"{row.WarmUpSeconds * 1000:F1}", $"{row.FirstDecodeAfterWarmUpSeconds * 1000:F1}", $"{row.AllocatedBytesPerPicture / 1e6:F2}");
            }

            AnsiConsole.Write(table);
            var encodeRows = new List<EncodeBenchRow>();
            if (r.GetValue(encode))
            {
                string requested = r.GetRequiredValue(analyses);
                var arithmetics = requested == "auto"
                    ? pack.HasEntry(Models.ModelPack.AnalysisInt8Entry) ? [AnalysisArithmetic.Float32, AnalysisArithmetic.Int8] : [AnalysisArithmetic.Float32]
                    : requested.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(a => Enum.TryParse(a, ignoreCase: true, out AnalysisArithmetic v) && Enum.IsDefined(v) ? v
                            : throw new ArgumentException($"--analysis: '{a}' is not Float32 or Int8.")).ToArray();
                foreach (var arithmetic in arithmetics)
                {
                    foreach (int t in threadCounts)
                    {
                        encodeRows.Add(MeasureEncode(pack, picture, setting, t, r.GetValue(tileSize), Math.Max(1, r.GetValue(repeat)), arithmetic));
                    }
                }

                var encodeTable = new Table().AddColumns("encoder", "analysis", "threads", "encode ms", "MP/s", "bytes",
                    "first ms (cold)", "warm-up ms", "first ms after it", "MB allocated").Border(TableBorder.Rounded);
                foreach (var row in encodeRows)
                {
                    encodeTable.AddRow("one-pass", row.Analysis.ToString(), $"{row.Threads}", $"{row.EncodeSeconds * 1000:F1}", $"{row.MegapixelsPerSecond:F3}", $"{row.ContainerBytes}",
                        $"{row.FirstEncodeSeconds * 1000:F1}", $"{row.WarmUpSeconds * 1000:F1}", $"{row.FirstEncodeAfterWarmUpSeconds * 1000:F1}", $"{row.AllocatedBytesPerPicture / 1e6:F2}");
                }

                AnsiConsole.Write(encodeTable);
            }

            if (jsonPath is not null)
            {
                var report = new BenchReport(Path.GetFileName(path), picture.Width, picture.Height, container.Length, pack.Sha256,
                    Environment.ProcessorCount, DateTimeOffset.UtcNow, withRatio)
                {
                    EncodeRows = encodeRows,
                    SynthesisRegion = r.GetValue(region),
                    PeakWorkingSetBytes = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64,
                };
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, CliJsonContext.Default.BenchReport));
            }

            return CliRunner.Ok;
        }));
        return command;
    }

    private static void Warm(Models.ModelPack pack, byte[] container, string backend, int region)
    {
        // Long enough for tiered JIT to reach its optimised code in what runs once per tile or frame (the residual
        // parser of a one-tile picture needs 30+ calls): with 20 decodes the first backend measured still paid for it.
        var clock = Stopwatch.StartNew();
        var options = new DecoderOptions { Backend = backend, Threads = 2, SynthesisRegion = region };
        _ = DecodeOnce(pack, container, options);
        using var decoder = new EdgeCodecDecoder(pack, options);
        for (int i = 0; i < 80 && (i < 10 || clock.Elapsed < TimeSpan.FromSeconds(3)); i++)
        {
            _ = DecodeWith(decoder, container);
        }
    }

    /// <summary>The container's first frame through a kept <paramref name="decoder"/>.</summary>
    private static DecodedFrame DecodeWith(EdgeCodecDecoder decoder, byte[] container)
    {
        using var ms = new MemoryStream(container, writable: false);
        return decoder.Decode(ms).Frame;
    }

    private static DecodedFrame DecodeOnce(Models.ModelPack pack, byte[] container, DecoderOptions options)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(pack, ms, options).Frame;
    }

    private static BenchRow Measure(Models.ModelPack pack, byte[] container, string backend, int threads, int repeat, int region)
    {
        var options = new DecoderOptions { Backend = backend, Threads = threads, SynthesisRegion = region };

        // A player keeps its decoder: the timed decodes reuse one, as EdgeCodecDecoder.Decode(Stream) does.
        using var decoder = new EdgeCodecDecoder(pack, options);
        DecodedFrame Run() => DecodeWith(decoder, container);

        var warm = Run();
        var runs = new List<DecodedFrame>();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < repeat; i++)
        {
            runs.Add(Run());
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        // A decoder made for one picture (the static EdgeCodecDecoder.Decode): construction, container, decode, disposal.
        var fresh = Enumerable.Range(0, Math.Min(repeat, 3)).Select(_ => Seconds(() => DecodeOnce(pack, container, options))).Order().ToList();

        // A new decoder warmed up for the stream's size (what a player does at start-up), then its first picture.
        var header = Format.ContainerReader.Read(container).Header;
        double warmUp, afterWarmUp;
        using (var warmed = new EdgeCodecDecoder(pack, options))
        {
            warmUp = Seconds(() => warmed.WarmUp(header.Width, header.Height, header.TileWidth));
            afterWarmUp = Seconds(() => DecodeWith(warmed, container));
        }

        var median = runs.OrderBy(f => f.Timings.TotalSeconds).ElementAt(runs.Count / 2);
        var t = median.Timings;
        return new BenchRow(warm.Backend, threads, t.TotalSeconds, t.EntropySeconds, t.HyperSeconds, t.SynthesisSeconds,
            median.Image.PixelCount / 1e6 / t.TotalSeconds, median.Image.PixelCount / 1e6 / t.SynthesisSeconds, null)
        {
            ResidualSeconds = t.ResidualSeconds,
            NewDecoderSeconds = fresh[fresh.Count / 2],
            WarmUpSeconds = warmUp,
            FirstDecodeAfterWarmUpSeconds = afterWarmUp,
            AllocatedBytesPerPicture = allocated / repeat,
        };
    }

    private static EncodeBenchRow MeasureEncode(Models.ModelPack pack, RgbImage picture, Models.QualitySetting setting, int threads, int tileSize, int repeat,
        AnalysisArithmetic analysis)
    {
        var options = new EncoderOptions { Threads = threads, TileSize = tileSize, Analysis = analysis };
        double warmUp, afterWarmUp;
        using (var prepared = new EdgeCodecEncoder(pack, options))
        {
            warmUp = Seconds(() => prepared.WarmUp(picture.Width, picture.Height));
            afterWarmUp = Seconds(() => prepared.Encode(picture, setting).ToContainerBytes());
        }

        using var encoder = new EdgeCodecEncoder(pack, options);
        int bytes = 0;
        double cold = Seconds(() => bytes = encoder.Encode(picture, setting).ToContainerBytes().Length); // ONNX Runtime's first runs per input shape
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var seconds = Enumerable.Range(0, repeat).Select(_ => Seconds(() => encoder.Encode(picture, setting).ToContainerBytes())).ToList();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        double median = seconds.Order().ElementAt(seconds.Count / 2);
        return new EncodeBenchRow(threads, median, picture.PixelCount / 1e6 / median, bytes)
        {
            Analysis = analysis,
            FirstEncodeSeconds = cold,
            WarmUpSeconds = warmUp,
            FirstEncodeAfterWarmUpSeconds = afterWarmUp,
            AllocatedBytesPerPicture = allocated / repeat,
        };
    }

    /// <summary>Wall time of <paramref name="work"/> in seconds.</summary>
    private static double Seconds(Action work)
    {
        long start = Stopwatch.GetTimestamp();
        work();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static string DefaultImage()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "media", "astronaut.png");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("No --image given and samples/media/astronaut.png not found.");
    }
}

/// <summary>One configuration of <c>bench</c>.</summary>
internal sealed record BenchRow(string Backend, int Threads, double DecodeSeconds, double EntropySeconds, double HyperSeconds,
    double SynthesisSeconds, double MegapixelsPerSecond, double SynthesisMegapixelsPerSecond, double? RatioVsOnnx)
{
    /// <summary>Wall time of the residual layer (0 without one).</summary>
    public double ResidualSeconds { get; init; }

    /// <summary>
    /// Wall time of a decoder made for one picture (the static <c>EdgeCodecDecoder.Decode</c>: backend creation,
    /// container, decode with cold buffers, disposal), median of up to 3; the other times are a kept decoder's.
    /// </summary>
    public double NewDecoderSeconds { get; init; }

    /// <summary>Wall time of <c>EdgeCodecDecoder.WarmUp</c> for the stream's size and tile size, on another new decoder.</summary>
    public double WarmUpSeconds { get; init; }

    /// <summary>Wall time of that warmed-up decoder's first picture (container included).</summary>
    public double FirstDecodeAfterWarmUpSeconds { get; init; }

    /// <summary>Bytes the process allocated per picture of the kept decoder (all threads), the returned picture included.</summary>
    public long AllocatedBytesPerPicture { get; init; }
}

/// <summary>One thread count of <c>bench --encode</c>: the median wall time of the one-pass encoder, container included.</summary>
internal sealed record EncodeBenchRow(int Threads, double EncodeSeconds, double MegapixelsPerSecond, int ContainerBytes)
{
    /// <summary>The analysis arithmetic the encoder ran.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<AnalysisArithmetic>))]
    public AnalysisArithmetic Analysis { get; init; }

    /// <summary>Wall time of a fresh encoder's first picture (ONNX Runtime's first run of each analysis input shape).</summary>
    public double FirstEncodeSeconds { get; init; }

    /// <summary>Wall time of <c>EdgeCodecEncoder.WarmUp</c> for the picture's size, on another fresh encoder.</summary>
    public double WarmUpSeconds { get; init; }

    /// <summary>Wall time of that warmed-up encoder's first picture.</summary>
    public double FirstEncodeAfterWarmUpSeconds { get; init; }

    /// <summary>Bytes the process allocated per picture of the kept encoder (all threads), its output included.</summary>
    public long AllocatedBytesPerPicture { get; init; }
}

/// <summary>What <c>bench --json</c> writes.</summary>
internal sealed record BenchReport(string Image, int Width, int Height, int ContainerBytes, string ModelSha256, int ProcessorCount,
    DateTimeOffset CreatedUtc, IReadOnlyList<BenchRow> Rows)
{
    /// <summary>The one-pass encoder's rows (<c>--encode</c>; empty without it).</summary>
    public IReadOnlyList<EncodeBenchRow> EncodeRows { get; init; } = [];

    /// <summary>The <c>--synthesis-region</c> used (pixels; 0 = one window per tile).</summary>
    public int SynthesisRegion { get; init; }

    /// <summary>The bench process's peak working set over all configurations (an upper bound for one decoder).</summary>
    public long PeakWorkingSetBytes { get; init; }
}
