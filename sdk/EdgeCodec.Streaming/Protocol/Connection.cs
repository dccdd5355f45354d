using System.Buffers;
using System.IO.Pipelines;

namespace EdgeCodec.Streaming.Protocol;

/// <summary>One item of an outgoing batch: a message, or a LATENT around a serialized packet body.</summary>
/// <summary>One message to send: a <see cref="Message"/>, a LATENT around a serialized packet body, or (Raw) a whole
/// message array serialized in advance (LATENT_COMPACT).</summary>
internal readonly record struct Outgoing(Message? Message, byte[]? LatentBody, bool Raw = false);

/// <summary>
/// Message I/O over one duplex pipe. Reads are single-consumer; writes are serialized by a lock so the ACK path and
/// the keepalive timer can share the writer. A batch is written whole and flushed once; the flush waits while the
/// pipe is above its pause threshold (backpressure).
/// </summary>
internal sealed class Connection(IDuplexPipe transport, int maxMessageSize)
{
    /// <summary>
    /// Runs one session over a new connection and always completes the connection afterwards (with the
    /// session's failure, except cancellation); <paramref name="beforeClose"/> runs first, success or not.
    /// </summary>
    public static async Task<bool> RunSessionAsync(IDuplexPipe transport, int maxMessageSize, Func<Connection, Task<bool>> session, Action? beforeClose = null)
    {
        var connection = new Connection(transport, maxMessageSize);
        Exception? failure = null;
        try
        {
            return await session(connection).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            beforeClose?.Invoke();
            await connection.CompleteAsync(failure is OperationCanceledException ? null : failure).ConfigureAwait(false);
        }
    }

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private long _lastSendTicks = Environment.TickCount64;

    public long MillisecondsSinceLastSend => Environment.TickCount64 - Interlocked.Read(ref _lastSendTicks);

    /// <summary>Reads every complete message of one pipe read into <paramref name="into"/>.</summary>
    /// <returns>False at a clean end of stream (no partial message pending).</returns>
    /// <exception cref="IOException">The stream ended inside a message.</exception>
    /// <exception cref="StreamProtocolException">A malformed or oversized message.</exception>
    public async ValueTask<bool> ReadBatchAsync(List<Message> into, CancellationToken cancellationToken)
    {
        var reader = transport.Input;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The read was cancelled.");
            }

            var buffer = result.Buffer;
            try
            {
                while (MessageCodec.TryRead(ref buffer, maxMessageSize, out var message))
                {
                    into.Add(message!);
                }
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (into.Count > 0)
            {
                return true;
            }

            if (result.IsCompleted)
            {
                return buffer.IsEmpty ? false : throw new IOException("The connection closed inside a message.");
            }
        }
    }

    public ValueTask SendAsync(Message message, CancellationToken cancellationToken) => SendAsync([new Outgoing(message, null)], cancellationToken);

    public async ValueTask SendAsync(IReadOnlyList<Outgoing> batch, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = transport.Output;
            foreach (var item in batch)
            {
                if (item.LatentBody is not null && item.Raw)
                {
                    MessageCodec.WriteRaw(writer, item.LatentBody);
                }
                else if (item.LatentBody is not null)
                {
                    MessageCodec.WriteLatent(writer, item.LatentBody);
                }
                else
                {
                    MessageCodec.Write(writer, item.Message!, _scratch);
                }
            }

            FlushResult flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flushed.IsCanceled)
            {
                throw new OperationCanceledException("The write was cancelled.");
            }

            if (flushed.IsCompleted)
            {
                throw new IOException("The peer stopped reading.");
            }

            Interlocked.Exchange(ref _lastSendTicks, Environment.TickCount64);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask CompleteAsync(Exception? error)
    {
        await transport.Input.CompleteAsync(error).ConfigureAwait(false);
        await transport.Output.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>Reads the first message, which must be a HELLO, within <paramref name="timeout"/>.</summary>
    public async ValueTask<HelloMessage> ReadHelloAsync(List<Message> pending, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            if (!await ReadBatchAsync(pending, cts.Token).ConfigureAwait(false))
            {
                throw new IOException("The connection closed before HELLO.");
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No HELLO within {timeout.TotalSeconds:0.###} s.");
        }

        if (pending[0] is ByeMessage bye)
        {
            // The peer refused before greeting (wrong model, protocol version): say why, not just "no HELLO".
            throw new StreamProtocolException($"The peer refused the session (reason {bye.Reason}): {bye.Text}");
        }

        if (pending[0] is not HelloMessage hello)
        {
            throw new StreamProtocolException($"The first message must be HELLO, got {pending[0].Type}.");
        }

        pending.RemoveAt(0);
        return hello;
    }
}
