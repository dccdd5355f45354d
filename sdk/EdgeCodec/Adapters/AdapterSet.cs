using EdgeCodec.Models;

namespace EdgeCodec.Adapters;

/// <summary>
/// A fixed, in-memory set of adapters for one base model: the decoder-side source for evaluation, tests and senders
/// that decode what they encode. Devices use <see cref="AdapterRegistry"/> (verified, persistent, hot-swappable).
/// </summary>
/// <remarks>The adapted pack views are built (and checked) once, in the constructor. Thread-safe.</remarks>
public sealed class AdapterSet : IAdapterSource
{
    private readonly Dictionary<ushort, ModelPack> _packs = [];

    /// <summary>Creates the set; every adapter is checked against <paramref name="basePack"/> now.</summary>
    /// <param name="basePack">The base model.</param>
    /// <param name="adapters">Adapters with distinct expert ids. Signatures are not checked here: verify untrusted packages first.</param>
    /// <exception cref="ArgumentNullException">An argument or element is null.</exception>
    /// <exception cref="ArgumentException">Two adapters share an expert id.</exception>
    /// <exception cref="AdapterVerificationException">An adapter was made for another model or does not fit its layers.</exception>
    public AdapterSet(ModelPack basePack, IEnumerable<AdapterPackage> adapters)
    {
        ArgumentNullException.ThrowIfNull(basePack);
        ArgumentNullException.ThrowIfNull(adapters);
        foreach (var adapter in adapters)
        {
            ArgumentNullException.ThrowIfNull(adapter, nameof(adapters));
            var view = basePack.WithAdapter(adapter);
            if (!_packs.TryAdd(adapter.Manifest.ExpertId, view))
            {
                throw new ArgumentException($"Two adapters use expert id {adapter.Manifest.ExpertId}.", nameof(adapters));
            }
        }

        Base = basePack;
    }

    /// <summary>The base model.</summary>
    public ModelPack Base { get; }

    /// <summary>Expert ids in the set.</summary>
    public IReadOnlyCollection<ushort> ExpertIds => _packs.Keys;

    /// <inheritdoc/>
    public bool TryGetPack(ushort expertId, out ModelPack pack)
    {
        if (_packs.TryGetValue(expertId, out var view))
        {
            pack = view;
            return true;
        }

        pack = Base;
        return false;
    }
}
