using EdgeCodec.Evaluation;
using EdgeCodec.Tests.PublicApi;

namespace EdgeCodec.Evaluation.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_its_baseline() =>
        PublicApiSurface.AssertMatchesBaseline(typeof(RdEvaluator).Assembly);
}
