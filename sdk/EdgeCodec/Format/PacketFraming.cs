using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace EdgeCodec.Format;

/// <summary>
/// Length-prefixed framing of <see cref="LatentPacket"/>s on a byte stream: an unsigned LEB128 length
/// (1..5 bytes, minimal) followed by the MessagePack body, as in SignalR's binary protocol.
/// </summary>
public static class PacketFraming
{
    /// <summary>Serializes <paramref name="packet"/> with a freshly computed CRC32 and appends the frame to <paramref name="output"/>.</summary>
    /// <param name="output">Receives the length prefix and body.</param>
    /// <param name="packet">The packet to write.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> or <paramref name="packet"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="packet"/> has a version other than <see cref="LatentPacket.CurrentVersion"/>.</exception>
    public static void Write(IBufferWriter<byte> output, LatentPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        if (packet.Version != LatentPacket.CurrentVersion)
        {
            throw new ArgumentException($"Only packet version {LatentPacket.CurrentVersion} can be written.", nameof(packet));
        }

        var body = new ArrayBufferWriter<byte>(packet.Payload.Length + PacketReaderOptions.MaxEnvelopeSize);
        PacketSerializer.WriteBody(body, packet);
        Varint.Write(output, (uint)body.WrittenCount);
        output.Write(body.WrittenSpan);
    }

    /// <summary>Serializes one frame into a new array (length prefix + body).</summary>
    /// <param name="packet">The packet to write.</param>
    /// <returns>The frame bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="packet"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="packet"/> has a version other than <see cref="LatentPacket.CurrentVersion"/>.</exception>
    public static byte[] ToArray(LatentPacket packet)
    {
        var output = new ArrayBufferWriter<byte>();
        Write(output, packet);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Tries to parse one frame from the start of <paramref name="buffer"/>; on success advances <paramref name="buffer"/> past it.
    /// </summary>
    /// <param name="buffer">Received bytes, possibly split over many segments.</param>
    /// <param name="options">Limits; the length prefix is checked against <see cref="PacketReaderOptions.MaxFrameSize"/> before anything is allocated.</param>
    /// <param name="packet">The parsed, CRC-verified packet when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="true"/> if a whole frame was parsed; <see langword="false"/> if more data is needed (<paramref name="buffer"/> is unchanged).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="EdgeCodecFormatException">
    /// The frame is malformed: bad or zero length prefix, a length over the limit (<see cref="FormatError.LimitExceeded"/>),
    /// a CRC mismatch (<see cref="FormatError.CrcMismatch"/>), an unsupported version, or an invalid body.
    /// Offsets are relative to the start of <paramref name="buffer"/>.
    /// </exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, PacketReaderOptions options, [NotNullWhen(true)] out LatentPacket? packet)
    {
        ArgumentNullException.ThrowIfNull(options);
        packet = null;
        FormatError error = Varint.TryRead(buffer, out int length, out int prefix);
        if (error == FormatError.Truncated)
        {
            return false;
        }

        if (error == FormatError.LimitExceeded)
        {
            throw new EdgeCodecFormatException($"Frame length prefix announces more than {int.MaxValue} bytes.", FormatError.LimitExceeded, 0);
        }

        if (error != FormatError.None)
        {
            throw new EdgeCodecFormatException("Frame length prefix is not a minimal LEB128 integer of at most 5 bytes and 31 bits.", FormatError.Malformed, 0);
        }

        if (length == 0)
        {
            throw new EdgeCodecFormatException("Frame length is zero.", FormatError.Malformed, 0);
        }

        if (length > options.MaxFrameSize)
        {
            throw new EdgeCodecFormatException($"Frame length {length} exceeds the limit of {options.MaxFrameSize} bytes.", FormatError.LimitExceeded, 0);
        }

        if (buffer.Length - prefix < length)
        {
            return false;
        }

        packet = PacketSerializer.Parse(buffer.Slice(prefix, length), options, prefix);
        buffer = buffer.Slice(prefix + length);
        return true;
    }
}
