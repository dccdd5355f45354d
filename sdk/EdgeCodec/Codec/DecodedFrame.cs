using EdgeCodec.Imaging;

namespace EdgeCodec.Codec;

/// <summary>
/// A decoded picture and what it was decoded from. The caller owns <see cref="Image"/>, and may hand it back to the
/// decoder with <see cref="EdgeCodecDecoder.Recycle"/> when done with it.
/// </summary>
public sealed class DecodedFrame
{
    internal DecodedFrame(uint frameIndex, RgbImage image, int[] layersPerTile, int expectedLayers, string backend, DecodeTimings timings)
    {
        FrameIndex = frameIndex;
        Image = image;
        LayersPerTile = layersPerTile;
        ExpectedLayers = expectedLayers;
        Backend = backend;
        Timings = timings;
    }

    /// <summary>The frame index from the packets.</summary>
    public uint FrameIndex { get; }

    /// <summary>The picture (new buffer, owned by the caller).</summary>
    public RgbImage Image { get; }

    /// <summary>Per tile, how many refinement layers were decoded (0 = the tile was missing and concealed).</summary>
    public IReadOnlyList<int> LayersPerTile { get; }

    /// <summary>Layers the stream announced.</summary>
    public int ExpectedLayers { get; }

    /// <summary>Tiles whose base layer was missing (concealed with flat latents).</summary>
    public IReadOnlyList<int> MissingTiles => [.. Enumerable.Range(0, LayersPerTile.Count).Where(t => LayersPerTile[t] == 0)];

    /// <summary>True when every tile got every announced layer.</summary>
    public bool IsComplete => LayersPerTile.All(l => l == ExpectedLayers);

    /// <summary>Per tile, the expert (domain adapter) its packets asked for; 0 = base synthesis.</summary>
    public IReadOnlyList<ushort> ExpertsPerTile { get; init; } = [];

    /// <summary>Tiles that asked for an adapter this device does not have and were decoded with the base synthesis.</summary>
    public IReadOnlyList<int> TilesWithoutAdapter { get; init; } = [];

    /// <summary>The synthesis backend that produced the pixels.</summary>
    public string Backend { get; }

    /// <summary>Time spent per stage.</summary>
    public DecodeTimings Timings { get; }
}
