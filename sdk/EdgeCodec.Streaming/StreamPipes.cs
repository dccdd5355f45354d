using System.IO.Pipelines;

namespace EdgeCodec.Streaming;

/// <summary>Wraps a stream as a duplex pipe; the stream stays open (its owner closes it).</summary>
internal static class StreamPipes
{
    public static IDuplexPipe Create(Stream stream) => new DuplexPipe(
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 << 10, minimumReadSize: 4096, leaveOpen: true)),
        PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 << 10, leaveOpen: true)));

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
