using System.Security.Cryptography;
using System.Text;

namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// Compiled EP-context binaries, keyed by everything that invalidates them: the model pack hash, the
/// window shape, the QNN/driver version and the SoC. A changed key means a new file (and the old ones
/// for the same model and shape are deleted); a file that fails to load is deleted and recompiled.
/// </summary>
internal sealed class QnnContextCache(string directory)
{
    public string Directory { get; } = directory;

    public static string Key(string modelSha256, int latentHeight, int latentWidth, string driverVersion, string soc)
    {
        string material = string.Join('\n', modelSha256, latentHeight, latentWidth, driverVersion, soc);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)))[..24];
    }

    public string PathFor(string modelSha256, int latentHeight, int latentWidth, string key) =>
        Path.Combine(Directory, $"{modelSha256[..12]}-{latentHeight}x{latentWidth}-{key}_ctx.onnx");

    /// <summary>Removes cached contexts of the same model and shape under other keys (driver or SoC changed).</summary>
    public int RemoveStale(string modelSha256, int latentHeight, int latentWidth, string key)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        int removed = 0;
        foreach (string file in System.IO.Directory.GetFiles(Directory, $"{modelSha256[..12]}-{latentHeight}x{latentWidth}-*_ctx.onnx"))
        {
            if (!file.EndsWith($"-{key}_ctx.onnx", StringComparison.Ordinal))
            {
                File.Delete(file);
                removed++;
            }
        }

        return removed;
    }
}
