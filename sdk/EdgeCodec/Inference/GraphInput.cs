namespace EdgeCodec.Inference;

/// <summary>An external input of an integer graph as the loader validated it: its name, kind and channel count.</summary>
/// <param name="Name">Tensor name used by the graph's nodes.</param>
/// <param name="IsU8">Whether the tensor is a u8 tensor (otherwise i32).</param>
/// <param name="Channels">Channel count the graph's weights expect.</param>
/// <param name="ZeroPoint">Zero point a u8 input must carry (ignored for i32 inputs).</param>
internal sealed record GraphInput(string Name, bool IsU8, int Channels, int ZeroPoint);
