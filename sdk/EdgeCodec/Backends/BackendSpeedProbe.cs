using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using EdgeCodec.Models;

namespace EdgeCodec.Backends;

/// <summary>
/// Measures the available backends once per model pack and process: each synthesises an 8×8-latent window
/// (128×128 pixels) once untimed (session set-up, JIT, NPU graph compilation), then three times timed; the fastest of
/// the three counts, so a busy machine's interference (another process, a GC) does not decide the choice.
/// </summary>
/// <remarks>
/// The timings live as long as their pack: an adapted pack (<see cref="ModelPack.WithAdapter"/>) that is dropped
/// takes its entries with it, so a long-running process that swaps adapters does not accumulate packs here.
/// </remarks>
internal static class BackendSpeedProbe
{
    private const int Window = 8;
    private static readonly ConditionalWeakTable<ModelPack, ConcurrentDictionary<string, double>> s_seconds = new();
    private static int s_measurements;

    /// <summary>Backends measured so far in this process (each costs four synthesis windows); for tests.</summary>
    internal static int Measurements => Volatile.Read(ref s_measurements);

    /// <summary>The fastest backend; one within 10 % of the fastest but of higher priority wins (list is priority-ordered).</summary>
    public static DecoderBackend Fastest(ModelPack pack, IReadOnlyList<DecoderBackend> available, Action<string>? log)
    {
        if (available.Count == 1)
        {
            return available[0];
        }

        var seconds = s_seconds.GetValue(pack, _ => new ConcurrentDictionary<string, double>(StringComparer.Ordinal));
        var timed = available.Select(b => (Backend: b, Seconds: seconds.GetOrAdd(b.Name, _ => Measure(pack, b)))).ToList();
        double best = timed.Min(t => t.Seconds);
        foreach (var (backend, time) in timed)
        {
            log?.Invoke($"auto: '{backend.Name}' synthesises a {Window * 16}x{Window * 16} window in {time * 1000:F1} ms");
        }

        return timed.First(t => t.Seconds <= best * 1.1).Backend;
    }

    private static double Measure(ModelPack pack, DecoderBackend backend)
    {
        Interlocked.Increment(ref s_measurements);
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
