using EdgeCodec.Models;

namespace EdgeCodec.Tests.Models;

/// <summary>Where <see cref="ModelPack.LoadDefault"/> looks, in order: the variable, beside the app, the repository.</summary>
public sealed class ModelPackLocatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgecodec-locator-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Touch(string relative, DateTime written)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1]);
        File.SetLastWriteTimeUtc(path, written);
        return path;
    }

    [Fact]
    public void An_app_finds_the_pack_beside_it_before_the_repository_s()
    {
        var t = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc);
        File.WriteAllText(Path.Combine(_dir, "EdgeCodec.sln"), "");
        string repository = Touch("models/repo.ecpack", t.AddDays(1)); // newer, but the app's own comes first
        string app = Path.Combine(_dir, "app", "bin");
        string older = Touch("app/bin/models/a.ecpack", t);
        string newer = Touch("app/bin/models/b.ecpack", t.AddHours(1));

        Assert.Equal(newer, ModelPackLocator.FindDefault(null, app));
        File.Delete(newer);
        Assert.Equal(older, ModelPackLocator.FindDefault(" ", app));
        File.Delete(older);
        Assert.Equal(repository, ModelPackLocator.FindDefault(null, app)); // an empty models/ beside the app: on to the repository

        // The variable wins over both, as a file or as a folder of packs.
        string chosen = Touch("elsewhere/c.ecpack", t.AddDays(-1));
        Assert.Equal(chosen, ModelPackLocator.FindDefault(chosen, app));
        Assert.Equal(chosen, ModelPackLocator.FindDefault(Path.GetDirectoryName(chosen), app));
    }

    [Fact]
    public void Without_a_pack_the_message_names_every_place_it_looked()
    {
        string app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);
        var e = Assert.Throws<FileNotFoundException>(() => ModelPackLocator.FindDefault(null, app));
        Assert.Contains(ModelPack.ModelEnvironmentVariable, e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(app, "models"), e.Message, StringComparison.Ordinal);
        Assert.Contains("EdgeCodec.Models", e.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<FileNotFoundException>(() => ModelPackLocator.FindDefault(Path.Combine(_dir, "nope.ecpack"), app));
        Assert.Contains("no such file or folder", missing.Message, StringComparison.Ordinal);

        // Load is given a path by hand: a folder there is a FileNotFoundException saying so (not a denied access).
        var folder = Assert.Throws<FileNotFoundException>(() => ModelPack.Load(app));
        Assert.Contains("is a folder", folder.Message, StringComparison.Ordinal);
        Assert.Equal(app, folder.FileName);
    }
}
