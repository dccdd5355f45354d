using System.Reflection;

namespace EdgeCodec.Tests.PublicApi;

/// <summary>
/// The public API of the library this test project tests (its name without ".Tests") matches the committed baseline.
/// Linked into every library's test project.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_of_the_tested_library_matches_its_baseline()
    {
        string tests = typeof(PublicApiTests).Assembly.GetName().Name!;
        Assert.EndsWith(".Tests", tests, StringComparison.Ordinal);
        PublicApiSurface.AssertMatchesBaseline(Assembly.Load(tests[..^".Tests".Length]));
    }
}
