using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation.Tests;

/// <summary>Locates shared datasets and builds synthetic images.</summary>
internal static class TestData
{
    /// <summary>The repository root: the nearest ancestor of the test binaries that holds EdgeCodec.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>CI checks out <c>shared/</c> beside the repository clone.</summary>
    public static string Kodak(string name) =>
        Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "datasets", "kodak", name));

    public static RgbImage Crop(RgbImage source, int x0, int y0, int width, int height)
    {
        var crop = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            source.Row(y0 + y).Slice(x0 * 3, width * 3).CopyTo(crop.Row(y));
        }

        return crop;
    }

    /// <summary>Adds uniform noise in [-amplitude, amplitude] to every sample, clamped to 0..255.</summary>
    public static RgbImage WithNoise(RgbImage source, int amplitude, int seed)
    {
        var random = new Random(seed);
        var noisy = new byte[source.Pixels.Length];
        for (int i = 0; i < noisy.Length; i++)
        {
            noisy[i] = (byte)Math.Clamp(source.Pixels[i] + random.Next(-amplitude, amplitude + 1), 0, 255);
        }

        return new RgbImage(source.Width, source.Height, noisy);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeCodec.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No EdgeCodec.sln above {AppContext.BaseDirectory}.");
    }
}
