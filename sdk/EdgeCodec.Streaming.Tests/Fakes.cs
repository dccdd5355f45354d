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
