using EdgeCodec.Imaging;
using EdgeCodec.Tests.PublicApi;

namespace EdgeCodec.Imaging.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_its_baseline() =>
        PublicApiSurface.AssertMatchesBaseline(typeof(ImageFile).Assembly);
}
