namespace EdgeCodec.Backends;

/// <summary>Options every backend understands.</summary>
public sealed class BackendOptions
{
    /// <summary>Threads one synthesis call may use; 0 means all cores. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Shared default options.</summary>
    public static BackendOptions Default { get; } = new();

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
