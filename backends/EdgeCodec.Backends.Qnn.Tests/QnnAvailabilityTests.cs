using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Qnn.Tests;

public sealed class QnnAvailabilityTests
{
    private static readonly Lazy<ModelPack> s_pack = new(ModelPack.LoadDefault);

    [Fact]
    public void Missing_ep_library_is_reported_with_the_path()
    {
        var backend = new QnnBackend(new QnnOptions { ProviderLibraryPath = "/nonexistent/libonnxruntime_providers_qnn.so" });
        Assert.False(backend.IsAvailable(s_pack.Value, out string reason));
        Assert.Contains("/nonexistent/libonnxruntime_providers_qnn.so", reason, StringComparison.Ordinal);
        var ex = Assert.Throws<NotSupportedException>(() => backend.Create(s_pack.Value, BackendOptions.Default));
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_that_is_not_an_execution_provider_is_refused_cleanly()
    {
        string notAnEp = typeof(object).Assembly.Location; // a file that exists but is no EP plug-in
        var backend = new QnnBackend(new QnnOptions { ProviderLibraryPath = notAnEp });
        Assert.False(backend.IsAvailable(s_pack.Value, out string reason));
        Assert.Contains("could not load the QNN EP", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Automatic_selection_skips_an_unavailable_npu_and_says_why()
    {
        DecoderBackends.Register(new QnnBackend(new QnnOptions { ProviderLibraryPath = "/nonexistent/qnn.so" }));
        var log = new List<string>();
        var chosen = DecoderBackends.Resolve(DecoderBackends.Auto, s_pack.Value, log.Add);
        Assert.NotEqual("qnn", chosen.Name);
        Assert.Contains(log, l => l.StartsWith("auto: skipping 'qnn'", StringComparison.Ordinal) && l.Contains("missing", StringComparison.Ordinal));
        Assert.Throws<NotSupportedException>(() => DecoderBackends.Resolve("qnn", s_pack.Value));
    }
}
