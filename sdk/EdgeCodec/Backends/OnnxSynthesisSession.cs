using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends;

/// <summary>One ONNX Runtime session over a synthesis graph: uint8 <c>yq</c> in, float <c>rgb</c> (0..255) out.</summary>
internal sealed class OnnxSynthesisSession : ISynthesisBackend
{
    private static readonly string[] s_inputNames = ["yq"];
    private static readonly string[] s_outputNames = ["rgb"];
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly int _channels;
    private float[] _output = [];

    public OnnxSynthesisSession(string name, byte[] model, int channels, SessionOptions options)
    {
        Name = name;
        _channels = channels;
        using (options)
        {
            _session = new InferenceSession(model, options);
        }
    }

    public string Name { get; }

    public bool IsThreadSafe => false;

    /// <inheritdoc/>
    public int WarmUpRuns => 2; // ONNX Runtime: memory pattern planned on a shape's first run, used from the second

    public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb)
    {
        int plane = height * width;
        if (yq.Length != _channels * plane)
        {
            throw new ArgumentException($"Expected {_channels * plane} latent bytes, got {yq.Length}.", nameof(yq));
        }

        int outH = height * 16, outW = width * 16, outPlane = outH * outW;
        if (rgb.Length != outPlane * 3)
        {
            throw new ArgumentException($"Expected {outPlane * 3} RGB bytes, got {rgb.Length}.", nameof(rgb));
        }

        using var input = OrtValue.CreateTensorValueFromMemory(yq.ToArray(), [1, _channels, height, width]);
        if (_output.Length < outPlane * 3)
        {
            _output = new float[outPlane * 3];
        }

        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(0, outPlane * 3), [1, 3, outH, outW]);
        _session.Run(_runOptions, s_inputNames, [input], s_outputNames, [output]);
        ReadOnlySpan<float> planes = _output.AsSpan(0, outPlane * 3);
        for (int i = 0; i < outPlane; i++)
        {
            rgb[3 * i] = ToByte(planes[i]);
            rgb[(3 * i) + 1] = ToByte(planes[outPlane + i]);
            rgb[(3 * i) + 2] = ToByte(planes[(2 * outPlane) + i]);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static byte ToByte(float v) => (byte)Math.Clamp((int)MathF.Round(v), 0, 255);
}
