using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// The widest kernel path the processor itself offers, read from the hardware's own report (Arm64 Linux: the
/// kernel's <c>AT_HWCAP</c> from <c>/proc/self/auxv</c>, else <c>/proc/cpuinfo</c>; x64 Linux <c>/proc/cpuinfo</c>;
/// elsewhere x64 <c>cpuid</c>) instead of from .NET's <c>IsSupported</c>. The two differ when the
/// process cannot use what the CPU has: a Native AOT build compiled for a baseline instruction set, or intrinsics
/// switched off (<c>DOTNET_EnableHWIntrinsic=0</c>, which also hides <c>cpuid</c>, and the like).
/// </summary>
internal static class HardwareFeatures
{
    private static readonly Lazy<CpuIsa> s_isa = new(Detect);

    public static CpuIsa Isa => s_isa.Value;

    private static CpuIsa Detect()
    {
        switch (RuntimeInformation.ProcessArchitecture)
        {
            case Architecture.X64:
                HashSet<string> flags = CpuInfoFlags("flags");
                if (flags.Count > 0)
                {
                    // What .NET's Avx512F/BW/DQ need together: F, DQ, CD, BW and VL.
                    bool avx512 = flags.IsSupersetOf(["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]);
                    return X64Path(flags.Contains("avx2"), avx512, flags.Contains("avx_vnni"));
                }

                if (X86Base.IsSupported && (uint)X86Base.CpuId(0, 0).Eax >= 7)
                {
                    int ebx = X86Base.CpuId(7, 0).Ebx;
                    bool avx512 = Bit(ebx, 16) && Bit(ebx, 17) && Bit(ebx, 28) && Bit(ebx, 30) && Bit(ebx, 31);
                    return X64Path(Bit(ebx, 5), avx512, Bit(X86Base.CpuId(7, 1).Eax, 4));
                }

                return CpuIsa.Scalar;
            case Architecture.Arm64:
                // AT_HWCAP is what the kernel (and under qemu-user, the emulated core: /proc/cpuinfo there is the host's)
                // says this process may run; .NET reads the same word.
                bool dotProduct = ReadAuxv() is { } auxv && HwCap(auxv) is ulong hwcap
                    ? (hwcap & HwCapAsimdDp) != 0
                    : CpuInfoFlags("Features").Contains("asimddp");
                return dotProduct ? CpuIsa.AdvSimdDp : CpuIsa.AdvSimd;
            default:
                return CpuIsa.Scalar;
        }
    }

    private static CpuIsa X64Path(bool avx2, bool avx512, bool avxVnni)
        => !avx2 ? CpuIsa.Scalar : !avx512 ? CpuIsa.Avx2 : avxVnni ? CpuIsa.Avx512Vnni : CpuIsa.Avx512Bw;

    private static bool Bit(int value, int bit) => (value & (1 << bit)) != 0;

    /// <summary>Linux arm64 <c>HWCAP_ASIMDDP</c>: the dot-product instructions (<c>sdot</c>, <c>udot</c>).</summary>
    internal const ulong HwCapAsimdDp = 1UL << 20;

    private const ulong AtNull = 0, AtHwCap = 16;

    /// <summary>
    /// The <c>AT_HWCAP</c> word of a 64-bit auxiliary vector (native-endian pairs of type and value, ended by
    /// <c>AT_NULL</c>), or null when it has none.
    /// </summary>
    internal static ulong? HwCap(ReadOnlySpan<byte> auxv)
    {
        for (int i = 0; i + 16 <= auxv.Length; i += 16)
        {
            ulong type = BitConverter.ToUInt64(auxv[i..]), value = BitConverter.ToUInt64(auxv[(i + 8)..]);
            if (type == AtNull)
            {
                break;
            }

            if (type == AtHwCap)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>This process's auxiliary vector (at most 4 KiB), or null when it cannot be read.</summary>
    private static byte[]? ReadAuxv()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                using var file = File.OpenRead("/proc/self/auxv");
                var buffer = new byte[4096];
                int length = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                return buffer[..length];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>The flags on the first <paramref name="key"/> line of <c>/proc/cpuinfo</c>, or none when it cannot be read.</summary>
    private static HashSet<string> CpuInfoFlags(string key)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(key))
                    {
                        return [.. line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return [];
    }
}
