using System.Diagnostics;

namespace EdgeCodec.Cli.Tests;

/// <summary>
/// Runs the built <c>edgecodec</c> CLI (<c>sdk/EdgeCodec.Cli/bin/&lt;configuration&gt;/net10.0/EdgeCodec.Cli.dll</c>) in a
/// process of its own, as a user does, from the repository root (so it finds the bundled pack in <c>models/</c>).
/// </summary>
internal static class CliProcess
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string CliPath
    {
        get
        {
            // The tests' own output folder names the configuration: …/bin/Release/net10.0/.
            string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            string path = Path.Combine(RepositoryRoot, "sdk", "EdgeCodec.Cli", "bin", configuration, "net10.0", "EdgeCodec.Cli.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the CLI first (dotnet build EdgeCodec.sln).", path);
        }
    }

    /// <summary>Runs <c>edgecodec ARGS</c>; returns the exit code and what it printed.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var (code, stdout, stderr) = RunPiped(null, args);
        return (code, System.Text.Encoding.UTF8.GetString(stdout), stderr);
    }

    /// <summary>
    /// Runs <c>edgecodec ARGS</c>, with <paramref name="stdin"/> as its standard input if given; returns the exit code,
    /// the bytes it wrote to standard output and what it printed to standard error.
    /// </summary>
    public static (int ExitCode, byte[] Stdout, string Stderr) RunPiped(byte[]? stdin, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("EDGECODEC_MODEL"); // the newest pack in models/, as the README's commands
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgecodec {string.Join(' ', args)} did not finish in 2 minutes");
        }

        copy.Wait();
        return (process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeCodec.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no EdgeCodec.sln above " + AppContext.BaseDirectory);
    }
}
