using EdgeCodec.Format;

namespace EdgeCodec.Entropy;

/// <summary>Outcome of a decode: an error category, the lane it happened on and the offset in the input.</summary>
internal readonly record struct RansDecodeResult(FormatError Error, int Lane = -1, long? Offset = null)
{
    public static RansDecodeResult Ok => default;

    public string Describe() => Error switch
    {
        FormatError.Truncated => $"rANS stream is truncated: the header announces more bytes than the input holds.",
        FormatError.TrailingData when Lane >= 0 => $"rANS lane {Lane} has unread bytes after its last symbol.",
        FormatError.TrailingData => "rANS stream has bytes after its last lane.",
        FormatError.LaneExhausted => $"rANS lane {Lane} ran out of bytes before its last symbol.",
        FormatError.FinalStateMismatch => $"rANS lane {Lane} did not end in the initial state: the stream is corrupt or was coded with other tables.",
        FormatError.UnsupportedVersion => "rANS stream header does not name a 1-, 2-, 4- or 8-lane layout.",
        _ when Lane >= 0 => $"rANS lane {Lane} is malformed (invalid state or non-canonical escape).",
        _ => "rANS stream header is malformed.",
    };
}
