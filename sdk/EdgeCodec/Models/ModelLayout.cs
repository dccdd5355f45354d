namespace EdgeCodec.Models;

/// <summary>The shape of a model: channel counts, strides, tiling and fixed-point format (<c>manifest.json</c> <c>layout</c>).</summary>
/// <remarks>
/// Invariants checked at load: <c>LatentChannels = Groups · GroupChannels</c>; both strides are powers of two with
/// <c>HyperStride &gt; LatentStride</c>; <c>TileSize</c> is a positive multiple of <c>HyperStride</c>.
/// </remarks>
public sealed class ModelLayout
{
    internal ModelLayout(int latentChannels, int hyperChannels, int groups, int groupChannels, int latentStride, int hyperStride,
        int tileSize, int synthesisHalo, int meanFractionBits, int scaleLevels)
    {
        LatentChannels = latentChannels;
        HyperChannels = hyperChannels;
        Groups = groups;
        GroupChannels = groupChannels;
        LatentStride = latentStride;
        HyperStride = hyperStride;
        TileSize = tileSize;
        SynthesisHalo = synthesisHalo;
        MeanFractionBits = meanFractionBits;
        ScaleLevels = scaleLevels;
    }

    /// <summary>Channels of the latent <c>y</c> (M).</summary>
    public int LatentChannels { get; }

    /// <summary>Channels of the hyper-latent <c>z</c> (Z).</summary>
    public int HyperChannels { get; }

    /// <summary>Number of channel-conditional groups (G); group k is coded after groups 0..k-1.</summary>
    public int Groups { get; }

    /// <summary>Latent channels per group (M / G).</summary>
    public int GroupChannels { get; }

    /// <summary>Pixels per latent position (16).</summary>
    public int LatentStride { get; }

    /// <summary>Pixels per hyper-latent position (64).</summary>
    public int HyperStride { get; }

    /// <summary>Tile size in pixels for entropy coding, the hyper decoder and the context models.</summary>
    public int TileSize { get; }

    /// <summary>Latent positions the synthesis reads across a tile border so tiled output has no seams.</summary>
    public int SynthesisHalo { get; }

    /// <summary>Fraction bits F of the fixed-point means and latents (one unit = 2^F).</summary>
    public int MeanFractionBits { get; }

    /// <summary>Number of Gaussian scale levels, i.e. of tables in <see cref="ModelPack.GaussianTables"/>.</summary>
    public int ScaleLevels { get; }
}
