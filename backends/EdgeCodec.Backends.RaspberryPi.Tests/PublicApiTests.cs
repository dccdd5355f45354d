using EdgeCodec.Backends.RaspberryPi;
using EdgeCodec.Tests.PublicApi;

namespace EdgeCodec.Backends.RaspberryPi.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_its_baseline() =>
        PublicApiSurface.AssertMatchesBaseline(typeof(ThermalSensor).Assembly);
}
