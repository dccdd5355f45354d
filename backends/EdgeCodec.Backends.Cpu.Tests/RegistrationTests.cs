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
