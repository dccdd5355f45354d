using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends;

/// <summary>Session options shared by the encoder's analysis and the ORT decoder backends.</summary>
internal static class OnnxSessionFactory
{
    public static SessionOptions CpuOptions(int threads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
        };
        // Our own threads already run tiles in parallel; ORT's spinning workers would steal their cores.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }
}
