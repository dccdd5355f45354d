namespace EdgeCodec.Backends.Cpu;

/// <summary>
/// The kernel paths of the CPU backend, ordered from the plainest to the widest. A cap
/// (<see cref="CpuBackendOptions.MaxIsa"/>) selects the best path the machine supports at or below it, so on x64 the
/// Arm values behave like <see cref="Scalar"/> and on Arm64 the x64 values behave like <see cref="AdvSimdDp"/>.
/// </summary>
public enum CpuIsa
{
    /// <summary>Portable scalar C# (every machine).</summary>
    Scalar = 0,

    /// <summary>Arm64 AdvSimd without dot product (Cortex-A72 / Raspberry Pi 4 class): widening 16-bit multiply-accumulate (<c>smlal</c>).</summary>
    AdvSimd = 1,

    /// <summary>Arm64 AdvSimd with the dot-product extension (Cortex-A76 and later): <c>sdot</c> on offset activations.</summary>
    AdvSimdDp = 2,

    /// <summary>x64 AVX2: zero-extended 16-bit activations with <c>vpmaddwd</c> (never the saturating <c>vpmaddubsw</c>).</summary>
    Avx2 = 3,

    /// <summary>
    /// x64 with AVX-512 (F/BW/DQ) but no AVX-VNNI (Zen 4, Ice Lake, Skylake-SP class): <c>vpmaddwd</c> on 512-bit
    /// registers with a 4 pixel × 32 channel register tile, 512-bit requantisation. These CPUs' AVX512-VNNI
    /// (<c>vpdpbusd</c> with EVEX encoding) has no .NET 10 API.
    /// </summary>
    Avx512Bw = 4,

    /// <summary>
    /// x64 with AVX-512 (F/BW/DQ) and AVX-VNNI: <c>vpdpbusd</c> dot products and 512-bit requantisation. .NET 10 exposes
    /// <c>vpdpbusd</c> only in its VEX 256-bit form (<c>AvxVnni</c>), so the dot products run on 256-bit registers.
    /// </summary>
    Avx512Vnni = 5,
}
