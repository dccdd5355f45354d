namespace EdgeCodec.Codec;

/// <summary>
/// One tile's coded streams before they are laid out as layers (<see cref="LayerPayload.Layers"/>): the hyper-latent
/// stream, one stream per coded latent group (at least group 0), and the residual layer's payload if the stream has one.
/// </summary>
internal sealed record TileStreams(byte[] Z, byte[][] Groups, byte[]? Residual = null);
