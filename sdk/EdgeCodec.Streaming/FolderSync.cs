using System.Runtime.InteropServices;

namespace EdgeCodec.Streaming;

/// <summary>
/// Writes a folder's entries (files created or deleted in it) through to the storage device. On Linux and macOS a new
/// file's name is durable only after an fsync of its folder, which .NET cannot open as a stream, so this calls libc.
/// On Windows, NTFS journals the entry with the file's own FlushFileBuffers, and this does nothing.
/// </summary>
internal static partial class FolderSync
{
    private const int ReadOnly = 0; // O_RDONLY

    /// <exception cref="IOException">The folder could not be opened or synced.</exception>
    public static void Flush(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(folder, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Cannot open the store folder {folder} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw new IOException($"Syncing the store folder {folder} failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
