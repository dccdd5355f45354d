namespace EdgeCodec.Models;

/// <summary>Finds the default model pack for <see cref="ModelPack.LoadDefault"/>.</summary>
internal static class ModelPackLocator
{
    /// <summary>The folder beside an application that holds its packs (where the <c>EdgeCodec.Models</c> package puts them).</summary>
    public const string AppFolder = "models";

    public static string FindDefault() => FindDefault(Environment.GetEnvironmentVariable(ModelPack.ModelEnvironmentVariable), AppContext.BaseDirectory);

    /// <summary>
    /// The default pack: <paramref name="configured"/> (a pack, or a folder of packs) if set; else the newest pack in
    /// <c>models/</c> beside the application (<paramref name="baseDirectory"/>: a deployed app, or one that references the
    /// <c>EdgeCodec.Models</c> package); else the newest pack in <c>models/</c> of the repository around the application.
    /// </summary>
    /// <exception cref="FileNotFoundException">No pack is found; the message says where it looked.</exception>
    public static string FindDefault(string? configured, string baseDirectory)
    {
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

        string beside = Path.Combine(baseDirectory, AppFolder);
        if (Directory.Exists(beside) && Newest(beside) is { } deployed)
        {
            return deployed;
        }

        string? root = FindRepositoryRoot(baseDirectory);
        if (root is null)
        {
            throw new FileNotFoundException(
                $"No model pack: {ModelPack.ModelEnvironmentVariable} is not set, {beside} has no *.ecpack file (the EdgeCodec.Models package puts one there) and no folder above {baseDirectory} contains EdgeCodec.sln.");
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
