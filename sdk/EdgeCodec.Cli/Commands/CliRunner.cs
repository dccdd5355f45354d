using EdgeCodec.Models;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary>Exit codes and error reporting shared by every command.</summary>
internal static class CliRunner
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int BadInput = 3;

    /// <summary>Runs a command body, turning expected failures into a message and an exit code.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (EdgeCodecFormatException ex)
        {
            return Error(BadInput, $"invalid EdgeCodec data: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            return Error(BadInput, ex.Message);
        }
        catch (FileNotFoundException ex)
        {
            return Error(BadInput, ex.Message);
        }
        catch (DirectoryNotFoundException ex)
        {
            return Error(BadInput, ex.Message);
        }
        catch (IOException ex)
        {
            return Error(Failure, ex.Message); // a file that cannot be read or written: a full disk, a path through a file, ...
        }
        catch (UnauthorizedAccessException ex)
        {
            return Error(Failure, ex.Message);
        }
        catch (NotSupportedException ex)
        {
            return Error(Usage, ex.Message);
        }
        catch (ArgumentException ex)
        {
            return Error(Usage, ex.Message);
        }
    }

    public static int Error(int code, string message)
    {
        Console.Error.WriteLine($"edgecodec: error: {message}");
        return code;
    }

    public static ModelPack LoadPack(FileInfo? path) => path is null ? ModelPack.LoadDefault() : ModelPack.Load(path.FullName);

    /// <summary>A diagnostic line (which backend was skipped, what a run uses), on standard error: standard output may be
    /// the data (<c>-o -</c>).</summary>
    public static void Info(string message) => Diagnostics.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

    private static readonly IAnsiConsole Diagnostics = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}
