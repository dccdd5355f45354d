namespace EdgeCodec.Adapters;

/// <summary>
/// One synthesis convolution an adapter retunes: per output channel, a new bias and requantisation
/// multiplier/shift (a per-channel scale and shift of the layer's output, folded into integers, so an
/// adapted layer costs exactly what the base layer costs on every backend).
/// </summary>
/// <param name="Output">The conv node's output name in the pack's <c>synthesis</c> graph (e.g. <c>a1</c>).</param>
/// <param name="Bias">int32 bias per output channel.</param>
/// <param name="Mult">Requantisation multiplier per output channel (&gt; 0, &lt; 2^31).</param>
/// <param name="Shift">Requantisation shift per output channel (1..62).</param>
public sealed record AdapterLayer(string Output, int[] Bias, int[] Mult, int[] Shift)
{
    /// <summary>Output channels of the layer.</summary>
    public int Channels => Bias.Length;
}
