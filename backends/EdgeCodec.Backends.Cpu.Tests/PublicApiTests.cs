using EdgeCodec.Backends.Cpu;
using EdgeCodec.Tests.PublicApi;

namespace EdgeCodec.Backends.Cpu.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_its_baseline() =>
        PublicApiSurface.AssertMatchesBaseline(typeof(CpuBackend).Assembly);
}
