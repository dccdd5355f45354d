namespace EdgeCodec.Models;

/// <summary>Finds the default model pack for <see cref="ModelPack.LoadDefault"/>.</summary>
internal static class ModelPackLocator
{
    public static string FindDefault()
    {
        string? configured = Environment.GetEnvironmentVariable(ModelPack.ModelEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (File.Exists(configured))
            {
                return configured;
            }

            return Directory.Exists(configured)
                ? Newest(configured) ?? throw new FileNotFoundException($"{ModelPack.ModelEnvironmentVariable}={configured}: the folder has no *.ecpack file.")
                : throw new FileNotFoundException($"{ModelPack.ModelEnvironmentVariable}={configured}: no such file or folder.", configured);
        }

        string? root = FindRepositoryRoot(AppContext.BaseDirectory);
        if (root is null)
        {
            throw new FileNotFoundException(
                $"No model pack: {ModelPack.ModelEnvironmentVariable} is not set and no folder above {AppContext.BaseDirectory} contains EdgeCodec.sln.");
        }

        string models = Path.Combine(root, "models");
        return (Directory.Exists(models) ? Newest(models) : null)
            ?? throw new FileNotFoundException($"No model pack: {models} has no *.ecpack file and {ModelPack.ModelEnvironmentVariable} is not set.");
    }

    /// <summary>The folder containing <c>EdgeCodec.sln</c> at or above <paramref name="start"/>, or <see langword="null"/>.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "EdgeCodec.sln")))
            {
                return d.FullName;
            }
        }

        return null;
    }

    /// <summary>Newest <c>*.ecpack</c> by write time (name breaks ties, so the choice is deterministic).</summary>
    public static string? Newest(string folder) => new DirectoryInfo(folder).GetFiles("*.ecpack")
        .OrderByDescending(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
        .Select(f => f.FullName).FirstOrDefault();
}
