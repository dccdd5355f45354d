namespace EdgeCodec.Streaming;

/// <summary>A domain-adapter package pushed by the sender arrived whole (see <see cref="StreamReceiver.AdapterReceived"/>).</summary>
public sealed class AdapterReceivedEventArgs : EventArgs
{
    internal AdapterReceivedEventArgs(ushort expertId, int bytes, string? problem)
    {
        ExpertId = expertId;
        Bytes = bytes;
        Problem = problem;
    }

    /// <summary>The expert id the sender announced for it.</summary>
    public ushort ExpertId { get; }

    /// <summary>Package size in bytes.</summary>
    public int Bytes { get; }

    /// <summary>True when <see cref="StreamReceiverOptions.InstallAdapter"/> accepted it (verified and active).</summary>
    public bool Installed => Problem is null;

    /// <summary>Why it was refused (verification message, hash mismatch, no installer), or null.</summary>
    public string? Problem { get; }
}
