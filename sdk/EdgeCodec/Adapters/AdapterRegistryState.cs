namespace EdgeCodec.Adapters;

/// <summary>The registry's commit record (<c>state.json</c>), replaced atomically on every change.</summary>
internal sealed class AdapterRegistryState
{
    public int Version { get; set; } = 1;

    public List<InstalledAdapter> Adapters { get; set; } = [];
}

/// <summary>One installed adapter as the registry records it.</summary>
public sealed class InstalledAdapter
{
    /// <summary>Adapter id.</summary>
    public required string Id { get; init; }

    /// <summary>Expert id it serves.</summary>
    public required ushort ExpertId { get; init; }

    /// <summary>Domain.</summary>
    public required string Domain { get; init; }

    /// <summary>Active version.</summary>
    public required int ActiveVersion { get; init; }

    /// <summary>File of the active version, relative to the store.</summary>
    public required string ActiveFile { get; init; }

    /// <summary>Previous version kept for rollback, if any.</summary>
    public int? PreviousVersion { get; init; }

    /// <summary>File of the previous version, if any.</summary>
    public string? PreviousFile { get; init; }

    /// <summary>Bytes on disk (both versions).</summary>
    public long Bytes { get; init; }

    /// <summary>Last time a decoder used it (UTC ticks); the quota evicts the oldest first.</summary>
    public long LastUsedTicks { get; init; }

    /// <summary>A copy with another <see cref="LastUsedTicks"/>: records handed out by the registry never change under their holder.</summary>
    internal InstalledAdapter WithLastUsed(long ticks) => new()
    {
        Id = Id,
        ExpertId = ExpertId,
        Domain = Domain,
        ActiveVersion = ActiveVersion,
        ActiveFile = ActiveFile,
        PreviousVersion = PreviousVersion,
        PreviousFile = PreviousFile,
        Bytes = Bytes,
        LastUsedTicks = ticks,
    };
}
