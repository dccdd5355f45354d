using EdgeCodec.Models;

namespace EdgeCodec.Adapters;

/// <summary>Where a decoder finds the adapted synthesis for a tile's expert id.</summary>
public interface IAdapterSource
{
    /// <summary>Looks up the pack view for <paramref name="expertId"/>.</summary>
    /// <param name="expertId">The expert id from the tile's packets (≥ 1).</param>
    /// <param name="pack">The adapted pack, or the base pack when the adapter is not installed.</param>
    /// <returns>False when the adapter is not installed (the tile then decodes with the base synthesis).</returns>
    bool TryGetPack(ushort expertId, out ModelPack pack);
}
