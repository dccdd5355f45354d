using System.Diagnostics;

namespace EdgeCodec.Codec;

/// <summary>Accumulates time spent in rANS and in the integer hyper path across threads.</summary>
internal sealed class EntropyTimer
{
    private long _entropyTicks;
    private long _hyperTicks;

    public double EntropySeconds => Interlocked.Read(ref _entropyTicks) / (double)Stopwatch.Frequency;

    public double HyperSeconds => Interlocked.Read(ref _hyperTicks) / (double)Stopwatch.Frequency;

    public long Start() => Stopwatch.GetTimestamp();

    public void StopHyper(ref long start)
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _hyperTicks, now - start);
        start = now;
    }

    public void AddEntropy(long start) => Interlocked.Add(ref _entropyTicks, Stopwatch.GetTimestamp() - start);
}
