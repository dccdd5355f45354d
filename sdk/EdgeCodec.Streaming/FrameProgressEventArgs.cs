using EdgeCodec.Codec;
using EdgeCodec.Format;

namespace EdgeCodec.Streaming;

/// <summary>What changed for a frame.</summary>
public enum FrameProgressKind
{
    /// <summary>
    /// Every tile's layer 0 arrived: the frame can be displayed. In a stream with a preview layer
    /// (<see cref="EdgeCodec.Format.ContainerHeader.PreviewLayer"/>) that is the preview (the hyper-latent alone, a
    /// blurred picture), and the first <see cref="Refined"/> step brings the base.
    /// </summary>
    BaseLayerComplete,

    /// <summary>One more refinement layer arrived for every tile.</summary>
    Refined,
}

/// <summary>A frame gained a complete layer. Raised once per (frame, layer), base layer first.</summary>
public sealed class FrameProgressEventArgs : EventArgs
{
    internal FrameProgressEventArgs(uint frameIndex, FrameProgressKind kind, int completeLayers, ContainerHeader header, IReadOnlyList<LatentPacket> packets)
    {
        FrameIndex = frameIndex;
        Kind = kind;
        CompleteLayers = completeLayers;
        Header = header;
        Packets = packets;
    }

    /// <summary>The frame.</summary>
    public uint FrameIndex { get; }

    /// <summary>Base layer complete, or refined.</summary>
    public FrameProgressKind Kind { get; }

    /// <summary>Layers complete for every tile, 1..<see cref="ContainerHeader.LayerCount"/>.</summary>
    public int CompleteLayers { get; }

    /// <summary>True when every layer of every tile arrived.</summary>
    public bool IsComplete => CompleteLayers == Header.LayerCount;

    /// <summary>The frame's geometry (frame count 0: a live stream).</summary>
    public ContainerHeader Header { get; }

    /// <summary>The frame's packets applied so far, in prefix order (a snapshot; at least <c>CompleteLayers x tiles</c>).</summary>
    public IReadOnlyList<LatentPacket> Packets { get; }
}

/// <summary>A progressive decode of a frame, raised after <see cref="FrameProgressEventArgs"/> when a decoder is configured.</summary>
public sealed class FrameDecodedEventArgs : EventArgs
{
    internal FrameDecodedEventArgs(FrameProgressEventArgs progress, DecodedFrame frame)
    {
        Progress = progress;
        Frame = frame;
    }

    /// <summary>The progress step that was decoded.</summary>
    public FrameProgressEventArgs Progress { get; }

    /// <summary>The picture; owned by the handler.</summary>
    public DecodedFrame Frame { get; }
}
