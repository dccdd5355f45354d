namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>How a kernel wants its weights pre-packed (per block of 16 output channels, tap, group of 4 input channels).</summary>
internal enum WeightLayout
{
    /// <summary>int8 <c>[16 oc][4 ic]</c> = 64 bytes: <c>vpdpbusd</c>, <c>sdot</c>, scalar.</summary>
    S8OcIc,

    /// <summary>int16 <c>[16 oc][4 ic]</c> = 128 bytes: AVX2 <c>vpmaddwd</c> against a broadcast of 4 widened activations.</summary>
    S16OcIc,

    /// <summary>int16 <c>[4 ic][16 oc]</c> = 128 bytes: Arm <c>smlal</c> by element.</summary>
    S16IcOc,
}

/// <summary>Where a weight lands inside one packed group of 16 output × 4 input channels.</summary>
internal static class WeightLayoutExtensions
{
    /// <summary>Element index (0..63) of output lane <paramref name="lane"/> (0..15), input channel <paramref name="ic"/> (0..3).</summary>
    public static int InGroup(this WeightLayout layout, int lane, int ic) => layout == WeightLayout.S16IcOc ? (ic * 16) + lane : (lane * 4) + ic;
}
