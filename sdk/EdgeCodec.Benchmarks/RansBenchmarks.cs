using EdgeCodec.Tests.Entropy;
using BenchmarkDotNet.Attributes;
using EdgeCodec.Entropy;

namespace EdgeCodec.Benchmarks;

/// <summary>rANS encode and decode of Gaussian latents over 64 scale tables (widths 3..~243).</summary>
[MemoryDiagnoser]
public class RansBenchmarks
{
    private CdfTableSet _tables = null!;
    private int[] _values = null!;
    private int[] _tableIndices = null!;
    private byte[] _encoded = null!;
    private int[] _decoded = null!;

    [Params(1 << 20)]
    public int Symbols { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _tables = TestTables.Gaussian();
        (_values, _tableIndices) = TestTables.LatentStream(Symbols, seed: 42);
        _encoded = RansCodec.Encode(_values, _tableIndices, _tables);
        _decoded = new int[Symbols];
    }

    [Benchmark]
    public byte[] Encode() => RansCodec.Encode(_values, _tableIndices, _tables);

    [Benchmark]
    public int[] Decode()
    {
        RansCodec.Decode(_encoded, _tableIndices, _tables, _decoded);
        return _decoded;
    }
}
