namespace EdgeCodec.Streaming;

/// <summary>A snapshot of what a <see cref="StreamSender"/>'s link can take (see <see cref="StreamSender.Link"/>).</summary>
/// <param name="Throughput">Estimated bytes per second the link carries.</param>
/// <param name="BacklogBytes">Bytes that go out before a new frame's base layer: in flight, plus released or undecided
/// base layers not yet acknowledged. Deferred refinement layers are not counted (they wait for spare capacity).</param>
/// <param name="InFlightBytes">Bytes sent on the current connection and not yet acknowledged.</param>
public readonly record struct LinkEstimate(double Throughput, long BacklogBytes, long InFlightBytes);
