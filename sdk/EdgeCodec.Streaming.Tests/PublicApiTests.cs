using EdgeCodec.Streaming;
using EdgeCodec.Tests.PublicApi;

namespace EdgeCodec.Streaming.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_its_baseline() =>
        PublicApiSurface.AssertMatchesBaseline(typeof(StreamReceiver).Assembly);
}
