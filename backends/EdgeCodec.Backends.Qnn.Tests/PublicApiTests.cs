using EdgeCodec.Backends.Qnn;
using EdgeCodec.Tests.PublicApi;

namespace EdgeCodec.Backends.Qnn.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_its_baseline() =>
        PublicApiSurface.AssertMatchesBaseline(typeof(QnnBackend).Assembly);
}
