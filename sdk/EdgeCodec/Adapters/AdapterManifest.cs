namespace EdgeCodec.Adapters;

/// <summary>What an adapter package says about itself (<c>manifest.json</c>).</summary>
public sealed class AdapterManifest
{
    /// <summary>Stable identifier, lowercase letters, digits and dashes, 1..64 characters (e.g. <c>screen-content</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The expert id written into packets that use this adapter (1..65535; 0 is the base synthesis).</summary>
    public required ushort ExpertId { get; init; }

    /// <summary>Content domain (e.g. <c>illustration</c>, <c>screen</c>).</summary>
    public required string Domain { get; init; }

    /// <summary>Version, ≥ 1; a device keeps the previous version for rollback.</summary>
    public required int Version { get; init; }

    /// <summary>SHA-256 (hex) of the model pack the adapter was trained for; any other pack refuses it.</summary>
    public required string BaseModelSha256 { get; init; }

    /// <summary>Parameters the adapter changes (for the size budget: ≤ 5% of g_s).</summary>
    public int ParameterCount { get; init; }

    /// <summary>Output names of the retuned synthesis convs (written by <see cref="AdapterPackage.Create"/>).</summary>
    public IReadOnlyList<string>? LayerOutputs { get; init; }

    /// <summary>Channel counts of the retuned convs, parallel to <see cref="LayerOutputs"/>.</summary>
    public IReadOnlyList<int>? LayerChannels { get; init; }

    /// <summary>Measured BD-rate of base + adapter vs base on the domain's validation set, in percent, if known.</summary>
    public double? MeasuredBdRatePercent { get; init; }
}
