using System.Buffers;
using System.IO.Pipelines;

namespace EdgeCodec.Streaming.Tests;

/// <summary>
/// A duplex stream over two pipes with injectable faults: writes throw after <see cref="FailAfterWrites"/> calls,
/// reads can return one byte at a time.
/// </summary>
public sealed class FaultyStream(PipeReader input, PipeWriter output) : Stream
{
    private int _writes;

    public int FailAfterWrites { get; init; } = int.MaxValue;

    public bool OneByteReads { get; init; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await input.ReadAsync(cancellationToken);
        var data = result.Buffer;
        int n = (int)Math.Min(data.Length, OneByteReads ? 1 : buffer.Length);
        data.Slice(0, n).CopyTo(buffer.Span);
        input.AdvanceTo(data.GetPosition(n));
        return n;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (++_writes > FailAfterWrites)
        {
            await output.CompleteAsync(new IOException("injected"));
            throw new IOException($"Injected failure on write {_writes}.");
        }

        await output.WriteAsync(buffer, cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Complete();
            output.Complete();
        }

        base.Dispose(disposing);
    }
}

/// <summary>A pair of connected in-memory streams/pipes without impairments.</summary>
public sealed class MemoryLink
{
    private readonly Pipe _up = new(new PipeOptions(pauseWriterThreshold: 64 << 10, resumeWriterThreshold: 32 << 10, useSynchronizationContext: false));
    private readonly Pipe _down = new(new PipeOptions(pauseWriterThreshold: 64 << 10, resumeWriterThreshold: 32 << 10, useSynchronizationContext: false));

    public IDuplexPipe SenderPipe => new Duplex(_down.Reader, _up.Writer);

    public IDuplexPipe ReceiverPipe => new Duplex(_up.Reader, _down.Writer);

    public FaultyStream SenderStream(int failAfterWrites = int.MaxValue, bool oneByteReads = false) =>
        new(_down.Reader, _up.Writer) { FailAfterWrites = failAfterWrites, OneByteReads = oneByteReads };

    public FaultyStream ReceiverStream(int failAfterWrites = int.MaxValue, bool oneByteReads = false) =>
        new(_up.Reader, _down.Writer) { FailAfterWrites = failAfterWrites, OneByteReads = oneByteReads };

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>The free space of a pretend disk shared by the files of a store: <see cref="DiskFullFileStream"/> writes take from it.</summary>
public sealed class PretendDisk
{
    private long _free;

    public PretendDisk(long free) => _free = free;

    /// <summary>Bytes that can still be written; set it higher to "free space".</summary>
    public long Free
    {
        get => Interlocked.Read(ref _free);
        set => Interlocked.Exchange(ref _free, value);
    }

    public int Take(int wanted)
    {
        lock (this)
        {
            int granted = (int)Math.Min(wanted, _free);
            _free -= granted;
            return granted;
        }
    }
}

/// <summary>
/// A real, unbuffered file on a <see cref="PretendDisk"/>: a write that does not fit writes the part that does, then
/// fails as a full disk does (ENOSPC after a short write).
/// </summary>
public sealed class DiskFullFileStream(string path, PretendDisk disk)
    : FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0)
{
    public override void Write(byte[] buffer, int offset, int count)
    {
        int granted = disk.Take(count);
        base.Write(buffer, offset, granted); // FileStream's array overload goes straight to the file
        if (granted < count)
        {
            throw new IOException("No space left on device");
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

    public override void WriteByte(byte value) => Write([value], 0, 1);
}
