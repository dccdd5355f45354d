namespace EdgeCodec.Streaming;

/// <summary>
/// The peer broke the streaming protocol (malformed or oversized message, wrong model, unsupported version) or ended
/// the session with an error. The connection is unusable; the session state survives for a reconnect.
/// </summary>
public sealed class StreamProtocolException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public StreamProtocolException()
        : base("Streaming protocol error.")
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/>.</summary>
    /// <param name="message">What went wrong.</param>
    public StreamProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The parser error.</param>
    public StreamProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
