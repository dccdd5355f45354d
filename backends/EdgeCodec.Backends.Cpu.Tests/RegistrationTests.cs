using EdgeCodec.Backends.Cpu.Engine;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Tests;

/// <summary>Registration in the backend registry and the integer-graph kernel hook.</summary>
[Collection(nameof(GlobalStateCollection))]
public sealed class RegistrationTests
{
    [Fact]
    public void Register_is_idempotent_and_wins_automatic_selection()
    {
        CpuBackend first = CpuBackend.Register(new CpuBackendOptions());
        CpuBackend second = CpuBackend.Register(new CpuBackendOptions());
        Assert.Equal("cpu", DecoderBackends.Get("cpu").Name);
        Assert.Equal(30, second.Priority);
        Assert.Equal(first.Isa, second.Isa);
        Assert.Equal(second.Isa, CpuBackend.EntropyIsa);
        Assert.Single(DecoderBackends.All, b => b.Name == "cpu");
        Assert.Equal("cpu", DecoderBackends.Resolve(DecoderBackends.Auto, ModelPack.LoadDefault()).Name);
        Assert.NotSame(IntegerKernels.ScalarConv, IntegerKernels.Conv);
    }

    [Fact]
    public void Capped_registration_pins_the_entropy_path_and_reset_restores_the_reference()
    {
        try
        {
            CpuBackend scalar = CpuBackend.Register(new CpuBackendOptions { MaxIsa = CpuIsa.Scalar });
            Assert.Equal(CpuIsa.Scalar, scalar.Isa);
            Assert.Equal(CpuIsa.Scalar, CpuBackend.EntropyIsa);
            CpuBackend.UnregisterEntropyKernels();
            Assert.Null(CpuBackend.EntropyIsa);
            Assert.Same(IntegerKernels.ScalarConv, IntegerKernels.Conv);
        }
        finally
        {
            CpuBackend.Register(new CpuBackendOptions());
        }
    }

    [Fact]
    public void The_arm64_dot_product_is_read_from_the_kernels_auxiliary_vector()
    {
        static byte[] Auxv(params (ulong Type, ulong Value)[] entries) =>
            [.. entries.SelectMany(e => BitConverter.GetBytes(e.Type).Concat(BitConverter.GetBytes(e.Value)))];

        ulong dp = HardwareFeatures.HwCapAsimdDp | 0xff; // fp, asimd, ... and asimddp
        Assert.Equal(dp, HardwareFeatures.HwCap(Auxv((6, 4096), (16, dp), (26, 0), (0, 0))));
        Assert.Equal(0xffUL, HardwareFeatures.HwCap(Auxv((33, 1), (16, 0xff), (0, 0)))); // a Pi 4: no dot product
        Assert.Null(HardwareFeatures.HwCap(Auxv((6, 4096), (0, 0), (16, dp))));          // nothing after AT_NULL counts
        Assert.Null(HardwareFeatures.HwCap(Auxv((6, 4096))[..12]));                     // a torn entry is not read
        Assert.Null(HardwareFeatures.HwCap([]));
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(HardwareFeatures.HwCap(File.ReadAllBytes("/proc/self/auxv"))); // the kernel always passes AT_HWCAP
        }
    }

    [Fact]
    public void The_hardware_path_is_at_least_the_usable_one_and_a_shortfall_is_reported_exactly_when_wider()
    {
        // Under DOTNET_EnableAVX512F=0 and the like (the reruns of every dispatch path), the hardware still reports
        // its widest path and the shortfall names the environment; in a plain run on x64 the two agree.
        CpuIsa usable = CpuBackend.SupportedIsas[0];
        Assert.True(CpuBackend.HardwareIsa >= usable, $"hardware {CpuBackend.HardwareIsa} < usable {usable}");
        Assert.Equal(CpuBackend.HardwareIsa > usable, CpuBackend.IsaShortfall is not null);
        if (CpuBackend.IsaShortfall is { } shortfall)
        {
            Assert.Contains(CpuBackend.HardwareIsa.ToString(), shortfall, StringComparison.Ordinal);
            Assert.Contains("environment", shortfall, StringComparison.Ordinal); // a JIT process: only the environment narrows it
        }

        bool intrinsicsOff = new[] { "DOTNET_EnableHWIntrinsic", "DOTNET_EnableAVX2", "DOTNET_EnableAVX512", "DOTNET_EnableAVX512F", "DOTNET_EnableAVXVNNI" }
            .Any(v => Environment.GetEnvironmentVariable(v) == "0");
        if (System.Runtime.Intrinsics.X86.X86Base.IsSupported && !intrinsicsOff)
        {
            Assert.Equal(usable, CpuBackend.HardwareIsa); // cpuid and .NET's IsSupported agree on this machine
        }
    }

    [Fact]
    public void Environment_cap_is_parsed()
    {
        Assert.Equal(CpuIsa.Avx512Vnni, CpuBackendOptions.Default.MaxIsa);
        Assert.Equal(KernelTable.For(CpuIsa.Avx2).Isa, CpuBackend.SelectIsa(CpuIsa.Avx2));
    }
}

/// <summary>Tests that change process-wide registration run one at a time.</summary>
[CollectionDefinition(nameof(GlobalStateCollection), DisableParallelization = true)]
public sealed class GlobalStateCollection
{
}
