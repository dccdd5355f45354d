using System.Runtime.CompilerServices;
using EdgeCodec.Codec;
using EdgeCodec.Evaluation;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Cli.Commands;

/// <summary>
/// EdgeCodec with the studio encoder in the RD harness: the latents come from <c>DIR/&lt;image&gt;.q&lt;N&gt;.eclt</c>
/// (<c>python3 -m training.refine</c>), the C# encoder entropy-codes them into a real container and a real decoder
/// decodes it. The quality levels swept are those with a file for every image; with a ladder, the ladder's settings
/// whose level has a file for every image. A rung with a residual step takes <c>DIR/&lt;image&gt;.q&lt;N&gt;r&lt;S&gt;.eclt</c>
/// (refined with the layer in the loop, <c>--ladder</c>) when every image has one, and otherwise the level's file
/// (the layer then codes what the synthesis of those latents missed). Encode time is the C# part only; the
/// refinement's own time is in its log.
/// </summary>
internal sealed class RefinedRdCodec : IRdCodec
{
    private readonly ModelPack _pack;
    private readonly string _folder;
    private readonly ConditionalWeakTable<RgbImage, string> _names = [];
    private readonly EdgeCodecRdCodec _roundTrip; // one-pass codec's encoders, decoder and checks, fed refined latents
    private readonly IReadOnlyList<QualitySetting>? _ladder;
    private readonly bool[] _inLoop = []; // per ladder rung: refined with the layer in the loop

    public RefinedRdCodec(ModelPack pack, string backend, string folder, IEnumerable<(string Name, RgbImage Image)> images, string name = "edgecodec",
        IReadOnlyList<QualitySetting>? ladder = null)
    {
        _pack = pack;
        _ladder = ladder;
        _folder = folder;
        Name = name;
        var list = images.ToList();
        foreach (var (n, image) in list)
        {
            _names.Add(image, n);
        }

        int[] levels = [.. Enumerable.Range(0, pack.QualityLevels.Count).Where(q => list.All(i => File.Exists(PathOf(i.Name, q, null))))];
        RefinedLevels = levels;
        if (ladder is null)
        {
            QualityLevels = levels;
        }
        else
        {
            _inLoop = [.. ladder.Select(s => s.ResidualStep is not null && list.All(i => File.Exists(PathOf(i.Name, s.Level, s.ResidualStep))))];
            QualityLevels = [.. Enumerable.Range(0, ladder.Count).Where(i => _inLoop[i] || levels.Contains(ladder[i].Level))];
        }

        _roundTrip = new EdgeCodecRdCodec(pack, backend, name);
    }

    public string Name { get; }

    /// <summary>The sweep's qualities: quality levels, or with a ladder indices into it.</summary>
    public IReadOnlyList<int> QualityLevels { get; }

    /// <summary>The quality levels that have refined latents for every image.</summary>
    public IReadOnlyList<int> RefinedLevels { get; }

    /// <summary>With a ladder: the rungs whose latents were refined with the residual layer in the loop.</summary>
    public int RungsRefinedWithLayer => _inLoop.Count(v => v);

    public RdSample Run(RgbImage image, int index)
    {
        QualitySetting setting = _ladder is null ? new QualitySetting(index, null) : _ladder[index];
        int quality = setting.Level;
        if (!_names.TryGetValue(image, out string? name))
        {
            throw new ArgumentException("The image is not one this codec was given refined latents for.", nameof(image));
        }

        int? refinedFor = _ladder is not null && _inLoop[index] ? setting.ResidualStep : null;
        string path = PathOf(name, quality, refinedFor);
        var latents = RefinedLatents.Read(File.ReadAllBytes(path), _pack);
        if (latents.Quality != quality || latents.ResidualStep != refinedFor)
        {
            throw new InvalidDataException($"{path} holds latents refined for {latents.Setting}.");
        }

        return _roundTrip.RoundTrip(encoder => encoder.Encode(image, latents, setting));
    }

    private string PathOf(string name, int quality, int? step) => Path.Combine(_folder, step is null ? $"{name}.q{quality}.eclt" : $"{name}.q{quality}r{step}.eclt");
}
