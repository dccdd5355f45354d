using System.Diagnostics;
using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Evaluation;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Cli.Commands;

/// <summary>EdgeCodec in the RD harness: real containers (bytes = whole .ecx file), decoded by a real decoder.</summary>
internal sealed class EdgeCodecRdCodec : IRdCodec
{
    private readonly ThreadLocal<EdgeCodecEncoder> _encoders;
    private readonly ThreadLocal<EdgeCodecDecoder> _decoders;

    private readonly int _layers;
    private readonly AdapterSet? _adapters;
    private readonly IReadOnlyList<QualitySetting>? _ladder;

    public EdgeCodecRdCodec(ModelPack pack, string backend, string name = "edgecodec", int layers = 0, IReadOnlyList<int>? qualities = null,
        IReadOnlyList<AdapterPackage>? experts = null, int tileSize = 0, IReadOnlyList<QualitySetting>? ladder = null,
        AnalysisArithmetic analysis = AnalysisArithmetic.Float32)
    {
        _ladder = ladder;
        _layers = layers;
        Name = name;
        QualityLevels = qualities ?? [.. Enumerable.Range(0, ladder?.Count ?? pack.QualityLevels.Count)];
        experts ??= [];
        _adapters = experts.Count > 0 ? new AdapterSet(pack, experts) : null;
        _encoders = new ThreadLocal<EdgeCodecEncoder>(() => new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 1, Experts = experts, TileSize = tileSize, Analysis = analysis }));
        _decoders = new ThreadLocal<EdgeCodecDecoder>(() => new EdgeCodecDecoder(pack, new DecoderOptions { Backend = backend, Threads = 1, MaxLayers = layers, Adapters = _adapters }));
    }

    public string Name { get; }

    public IReadOnlyList<int> QualityLevels { get; }

    /// <summary>Encodes at level <paramref name="quality"/>, or with a ladder at its entry <paramref name="quality"/>.</summary>
    public RdSample Run(RgbImage image, int quality) =>
        RoundTrip(encoder => _ladder is null ? encoder.Encode(image, quality) : encoder.Encode(image, _ladder[quality]));

    /// <summary>Encodes with this thread's encoder through <paramref name="encode"/>, writes the container, decodes it and measures.</summary>
    internal RdSample RoundTrip(Func<EdgeCodecEncoder, EncodedImage> encode)
    {
        var sw = Stopwatch.StartNew();
        byte[] container = encode(_encoders.Value!).ToContainerBytes();
        double encodeSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        using var ms = new MemoryStream(container, writable: false);
        var (frame, read) = _decoders.Value!.Decode(ms);
        if (!read.IsComplete || (_layers == 0 && !frame.IsComplete))
        {
            throw new InvalidOperationException($"Round trip lost data: {read.Status} {read.Message}");
        }

        if (frame.TilesWithoutAdapter.Count > 0)
        {
            throw new InvalidOperationException($"{frame.TilesWithoutAdapter.Count} tiles named an adapter the decoder lacks.");
        }

        return new RdSample(container.Length, frame.Image, encodeSeconds, sw.Elapsed.TotalSeconds)
        {
            Counts = _adapters is null ? null
                : frame.ExpertsPerTile.GroupBy(e => e).ToDictionary(g => $"tiles_expert_{g.Key}", g => (long)g.Count(), StringComparer.Ordinal),
        };
    }
}
