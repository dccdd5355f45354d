using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeCodec.Models;

namespace EdgeCodec.Backends;

/// <summary>
/// Measures the available backends once per model pack and process: each synthesises an 8×8-latent window
/// (128×128 pixels) once untimed (session set-up, JIT, NPU graph compilation), then three times timed; the fastest of
/// the three counts, so a busy machine's interference (another process, a GC) does not decide the choice.
/// </summary>
internal static class BackendSpeedProbe
{
    private const int Window = 8;
    private static readonly ConcurrentDictionary<(ModelPack Pack, string Backend), double> s_seconds = new();

    /// <summary>The fastest backend; one within 10 % of the fastest but of higher priority wins (list is priority-ordered).</summary>
    public static DecoderBackend Fastest(ModelPack pack, IReadOnlyList<DecoderBackend> available, Action<string>? log)
    {
        if (available.Count == 1)
        {
            return available[0];
        }

        var timed = available.Select(b => (Backend: b, Seconds: s_seconds.GetOrAdd((pack, b.Name), _ => Measure(pack, b)))).ToList();
        double best = timed.Min(t => t.Seconds);
        foreach (var (backend, seconds) in timed)
        {
            log?.Invoke($"auto: '{backend.Name}' synthesises a {Window * 16}x{Window * 16} window in {seconds * 1000:F1} ms");
        }

        return timed.First(t => t.Seconds <= best * 1.1).Backend;
    }

    private static double Measure(ModelPack pack, DecoderBackend backend)
    {
        try
        {
            using var session = backend.Create(pack, BackendOptions.Default);
            var yq = new byte[pack.Layout.LatentChannels * Window * Window];
            new Random(1).NextBytes(yq);
            var rgb = new byte[Window * 16 * Window * 16 * 3];
            session.Synthesize(yq, Window, Window, rgb);
            double best = double.PositiveInfinity;
            for (int run = 0; run < 3; run++)
            {
                long start = Stopwatch.GetTimestamp();
                session.Synthesize(yq, Window, Window, rgb);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            return best;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return double.PositiveInfinity; // claimed availability but cannot run this pack
        }
    }
}
