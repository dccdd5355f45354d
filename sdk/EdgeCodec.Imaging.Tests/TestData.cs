using EdgeCodec.Imaging;

namespace EdgeCodec.Imaging.Tests;

/// <summary>Locates shared datasets and builds synthetic images.</summary>
internal static class TestData
{
    /// <summary>The repository root: the nearest ancestor of the test binaries that holds EdgeCodec.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>CI checks out <c>shared/</c> beside the repository clone.</summary>
    public static string Kodak(string name) =>
        Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "datasets", "kodak", name));

    public static RgbImage Random(int width, int height, int seed)
    {
        var image = new RgbImage(width, height);
        new Random(seed).NextBytes(image.Pixels);
        return image;
    }

    public static double Psnr(RgbImage a, RgbImage b)
    {
        double sse = 0;
        for (int i = 0; i < a.Pixels.Length; i++)
        {
            double d = a.Pixels[i] - b.Pixels[i];
            sse += d * d;
        }

        return 10 * Math.Log10(255.0 * 255.0 / (sse / a.Pixels.Length));
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
