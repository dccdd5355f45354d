using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends.Qnn;

/// <summary>
/// Load a cached EP context if there is one; if it fails to load ("Failed to create context from
/// binary" after a driver update is the classic field failure), delete it and compile again.
/// </summary>
internal static class ContextCachePolicy
{
    public static T OpenOrCompile<T>(string path, Func<string, T> loadCached, Func<T> compile, Action<string>? log)
    {
        if (File.Exists(path))
        {
            try
            {
                return loadCached(path);
            }
            catch (OnnxRuntimeException ex)
            {
                log?.Invoke($"qnn: cached context {Path.GetFileName(path)} failed to load ({ex.Message}); recompiling");
                File.Delete(path);
            }
        }

        var compiled = compile();
        log?.Invoke(File.Exists(path) ? $"qnn: compiled and cached {Path.GetFileName(path)}" : "qnn: compiled (the EP wrote no context file)");
        return compiled;
    }
}
