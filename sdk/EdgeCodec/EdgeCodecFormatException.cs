using EdgeCodec.Format;

namespace EdgeCodec;

/// <summary>
/// Thrown when EdgeCodec input data (a packet, a container file, an entropy-coded stream or a table set)
/// is malformed, truncated, corrupt or exceeds a configured limit.
/// </summary>
/// <remarks>
/// Every parser in the SDK reports bad <em>data</em> with this type only, so a caller that handles untrusted
/// input needs a single catch clause. Bad <em>arguments</em> (caller bugs) still raise the usual
/// <see cref="ArgumentException"/> family.
/// </remarks>
public sealed class EdgeCodecFormatException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public EdgeCodecFormatException()
        : this("The EdgeCodec data is malformed.")
    {
    }

    /// <summary>Creates an exception with the given message and <see cref="FormatError.Malformed"/>.</summary>
    /// <param name="message">What was wrong with the data.</param>
    public EdgeCodecFormatException(string message)
        : this(message, FormatError.Malformed)
    {
    }

    /// <summary>Creates an exception that wraps a lower-level parser failure.</summary>
    /// <param name="message">What was wrong with the data.</param>
    /// <param name="innerException">The failure reported by the lower-level parser.</param>
    public EdgeCodecFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Error = FormatError.Malformed;
    }

    /// <summary>Creates an exception with a typed error and an optional input offset.</summary>
    /// <param name="message">What was wrong with the data.</param>
    /// <param name="error">The category of the problem.</param>
    /// <param name="offset">Byte offset in the input where the problem was found, when known.</param>
    /// <param name="innerException">The failure reported by a lower-level parser, if any.</param>
    public EdgeCodecFormatException(string message, FormatError error, long? offset = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Offset = offset;
    }

    /// <summary>The category of the problem, so callers can react without parsing the message.</summary>
    public FormatError Error { get; }

    /// <summary>Byte offset in the input where the problem was found, or <see langword="null"/> when unknown.</summary>
    public long? Offset { get; }
}
