namespace EdgeCodec.Adapters;

/// <summary>An adapter package failed verification: unsigned, untrusted key, bad signature, or made for another model.</summary>
public sealed class AdapterVerificationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AdapterVerificationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public AdapterVerificationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public AdapterVerificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
