namespace EdgeCodec.Cli.Commands;

/// <summary>
/// How every command names the files it reads and writes. An input must be a file (a folder is reported as such, not
/// as a denied access); an output may name a folder (an existing one, or any path ending in a separator, which is
/// created), where the file takes its default name; the folder an output goes into is created when missing; and an
/// output is written whole or not at all (to a temporary file beside it, then renamed over it), so a failed command
/// never leaves half a file nor destroys the file it would have replaced. <c>-</c> names standard input or output, for
/// pipes (<c>camera | edgecodec encode - -o - | ssh box edgecodec decode - -o frame.png</c>); a command whose output is
/// standard output writes its report to standard error.
/// </summary>
internal static class CliFiles
{
    /// <summary>The name of standard input (as an input) or standard output (as an output).</summary>
    public const string Standard = "-";

    /// <summary>The most a command reads into memory from one input, a file or standard input: the container reader's limit (1 GiB).</summary>
    public static readonly long MaxInputBytes = new Format.ContainerReadOptions().MaxFileSize;

    /// <summary>Whether <paramref name="file"/> is <c>-</c> as given on the command line.</summary>
    public static bool IsStandard(FileInfo file) => file.ToString() == Standard;

    /// <summary>Where a command that writes <paramref name="output"/> prints its report: standard error if the output is standard output.</summary>
    public static TextWriter Report(string output) => output == Standard ? Console.Error : Console.Out;

    /// <summary>
    /// An input's bytes: standard input for <c>-</c>, or the file <see cref="Input"/> names; more than
    /// <see cref="MaxInputBytes"/> is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static byte[] ReadAll(FileInfo file)
    {
        if (!IsStandard(file))
        {
            string path = Input(file);
            return new FileInfo(path).Length <= MaxInputBytes ? File.ReadAllBytes(path)
                : throw new InvalidDataException($"{path} is larger than {MaxInputBytes} bytes");
        }

        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = stdin.Read(chunk)) > 0)
        {
            if (buffer.Length + read > MaxInputBytes)
            {
                throw new InvalidDataException($"standard input holds more than {MaxInputBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The name an input gives an output written into a folder: the file's name without its extension, or <c>stdin</c>.</summary>
    public static string Stem(FileInfo input) => IsStandard(input) ? "stdin" : Path.GetFileNameWithoutExtension(input.Name);

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
    /// when it names a folder, or <see cref="Standard"/>. The folder the file goes into exists when this returns.
    /// </summary>
    public static string Output(FileInfo option, string defaultName)
    {
        if (IsStandard(option))
        {
            return Standard;
        }

        string path = option.FullName;
        if (Directory.Exists(path) || Path.EndsInDirectorySeparator(option.ToString()))
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
    /// target is untouched. <see cref="Standard"/> writes to standard output. Returns what <paramref name="write"/> returns.
    /// </summary>
    public static T WriteWhole<T>(string path, Func<Stream, T> write)
    {
        if (path == Standard)
        {
            using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
            return write(stdout);
        }

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
