namespace EdgeCodec.Cli.Commands;

/// <summary>
/// How every command names the files it reads and writes. An input must be a file (a folder is reported as such, not
/// as a denied access); an output may name a folder (an existing one, or any path ending in a separator, which is
/// created), where the file takes its default name; the folder an output goes into is created when missing; and an
/// output is written whole or not at all (to a temporary file beside it, then renamed over it), so a failed command
/// never leaves half a file nor destroys the file it would have replaced.
/// </summary>
internal static class CliFiles
{
    /// <summary>The full path of an input file; a folder or a missing file raises <see cref="FileNotFoundException"/> naming it.</summary>
    public static string Input(FileInfo file)
    {
        string path = file.FullName;
        if (Directory.Exists(path))
        {
            throw new FileNotFoundException($"{path} is a folder; name a file in it", path);
        }

        return File.Exists(path) ? path : throw new FileNotFoundException($"Could not find file '{path}'.", path);
    }

    /// <summary>
    /// The full path to write an output to: <paramref name="option"/> itself, or <paramref name="defaultName"/> inside it
    /// when it names a folder. The folder the file goes into exists when this returns.
    /// </summary>
    public static string Output(string option, string defaultName)
    {
        string path = Path.GetFullPath(option);
        if (Directory.Exists(path) || Path.EndsInDirectorySeparator(option))
        {
            CreateFolder(path);
            return Path.Combine(path, defaultName);
        }

        CreateFolder(Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>An output that must be a file (a report, a plot): its full path, with its folder created; a folder is refused.</summary>
    public static string Output(FileInfo option)
    {
        string path = option.FullName;
        if (Directory.Exists(path) || Path.EndsInDirectorySeparator(path))
        {
            throw new ArgumentException($"{path} is a folder; name the file to write");
        }

        CreateFolder(Path.GetDirectoryName(path)!);
        return path;
    }

    private static void CreateFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (IOException ex)
        {
            // Directory.CreateDirectory names the file in the way ("already exists"), not the folder it was to create.
            throw new IOException($"cannot create the folder {folder}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> whole or not at all: <paramref name="write"/> fills a temporary file in the same
    /// folder, which then replaces the target in one rename; on any failure the temporary file is removed and an existing
    /// target is untouched. Returns what <paramref name="write"/> returns.
    /// </summary>
    public static T WriteWhole<T>(string path, Func<Stream, T> write)
    {
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            T result;
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                result = write(stream);
            }

            File.Move(temp, path, overwrite: true);
            return result;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary><see cref="WriteWhole{T}(string, Func{Stream, T})"/> for a body that returns nothing.</summary>
    public static void WriteWhole(string path, Action<Stream> write) => WriteWhole(path, s =>
    {
        write(s);
        return 0;
    });
}
