using EdgeCodec.Codec;

namespace EdgeCodec.Tests.PublicApi;

public sealed class PublicApiRenderingTests
{
    [Fact]
    public void The_rendering_lists_public_types_with_their_members_and_hides_internals()
    {
        List<string> lines = PublicApiSurface.Render(typeof(EdgeCodecEncoder).Assembly);

        int encoder = lines.FindIndex(l => l.StartsWith("public sealed class EdgeCodec.Codec.EdgeCodecEncoder", StringComparison.Ordinal));
        Assert.True(encoder >= 0);
        List<string> members = [.. lines.Skip(encoder + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal))];
        Assert.Contains(members, l => l.Contains(" Encode(", StringComparison.Ordinal));
        Assert.Contains(members, l => l.StartsWith("  ctor(", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("TileEntropyPath", StringComparison.Ordinal)); // an internal type
        Assert.DoesNotContain(lines, l => l.Contains("k__BackingField", StringComparison.Ordinal) || l.Contains(" get_", StringComparison.Ordinal));
        List<string> types = [.. lines.Where(l => !l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Split(' ').First(w => w.Contains('.')))];
        Assert.Equal(types.Order(StringComparer.Ordinal), types);
    }
}
