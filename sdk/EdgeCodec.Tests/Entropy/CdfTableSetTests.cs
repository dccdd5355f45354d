using CsCheck;
using EdgeCodec.Entropy;
using EdgeCodec.Format;

namespace EdgeCodec.Tests.Entropy;

public sealed class CdfTableSetTests
{
    [Fact]
    public void QuantizePmf_random_weights_give_valid_cdfs()
    {
        Gen.Select(Gen.Int[2, CdfTableSet.MaxSymbolCount + 1], Gen.Int[0, 3], Gen.UInt)
            .Sample((n, shape, seed) =>
            {
                var rng = new Random((int)seed);
                var w = new long[n];
                for (int i = 0; i < n; i++)
                {
                    w[i] = shape switch
                    {
                        0 => 0,
                        1 => rng.NextInt64(0, 100),
                        2 => rng.Next(50) == 0 ? rng.NextInt64(0, long.MaxValue / n) : 0,
                        _ => i == 0 ? long.MaxValue / 2 : rng.Next(2),
                    };
                }

                AssertValid(CdfTableSet.QuantizePmf(w), n);
            }, iter: 300);
    }

    [Fact]
    public void QuantizePmf_extremes()
    {
        var huge = new long[CdfTableSet.MaxSymbolCount + 1];
        huge[17] = long.MaxValue;
        int[] cdf = CdfTableSet.QuantizePmf(huge);
        AssertValid(cdf, huge.Length);
        Assert.Equal(CdfTableSet.Total - CdfTableSet.MaxSymbolCount, cdf[18] - cdf[17]);

        AssertValid(CdfTableSet.QuantizePmf(new long[] { 0, 0 }), 2);
        AssertValid(CdfTableSet.QuantizePmf(new long[] { long.MaxValue, 0 }), 2);
        Assert.Throws<ArgumentException>(() => CdfTableSet.QuantizePmf(new long[] { 1 }));
        Assert.Throws<ArgumentException>(() => CdfTableSet.QuantizePmf(new long[] { 1, -1 }));
        Assert.Throws<ArgumentException>(() => CdfTableSet.QuantizePmf(new long[CdfTableSet.MaxSymbolCount + 2]));
        Assert.Throws<ArgumentException>(() => CdfTableSet.QuantizePmf(new long[] { long.MaxValue, long.MaxValue }));
    }

    [Fact]
    public void QuantizePmf_is_deterministic_and_proportional()
    {
        int[] a = CdfTableSet.QuantizePmf(new long[] { 3, 1, 0 });
        Assert.Equal(a, CdfTableSet.QuantizePmf(new long[] { 3, 1, 0 }));
        Assert.Equal(new[] { 0, 49151, 65535, 65536 }, a);
    }

    public static TheoryData<int[][], int[]> BadTables() => new()
    {
        { new[] { new[] { 1, 100, 65536 } }, new[] { 0 } },                 // cdf[0] != 0
        { new[] { new[] { 0, 100, 65535 } }, new[] { 0 } },                 // wrong end
        { new[] { new[] { 0, 100, 100, 65536 } }, new[] { 0 } },            // zero frequency
        { new[] { new[] { 0, 200, 100, 65536 } }, new[] { 0 } },            // decreasing
        { new[] { new[] { 0, 70000, 65536 } }, new[] { 0 } },               // above total
        { new[] { new[] { 0, 65536 } }, new[] { 0 } },                      // no direct symbol
        { new[] { new[] { 0, 1, 65536 } }, new[] { 0, 0 } },                // offset count mismatch
        { new[] { new[] { 0, 1, 65536 }, new[] { 0, 1, 2, 65536 } }, new[] { 0, int.MaxValue } }, // offset overflow
        { Array.Empty<int[]>(), Array.Empty<int>() },                       // no tables
        { new[] { new[] { 0, -5, 65536 } }, new[] { 0 } },                  // negative entry
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void Create_rejects_bad_tables(int[][] cdfs, int[] offsets)
    {
        var e = Assert.Throws<EdgeCodecFormatException>(() => CdfTableSet.Create(cdfs, offsets));
        Assert.Equal(FormatError.InvalidTable, e.Error);
    }

    [Fact]
    public void Create_rejects_oversized_sets()
    {
        var big = CdfTableSet.QuantizePmf(new long[CdfTableSet.MaxSymbolCount + 1]);
        var tooBig = new int[CdfTableSet.MaxSymbolCount + 3];
        for (int i = 0; i < tooBig.Length; i++)
        {
            tooBig[i] = i;
        }

        tooBig[^1] = CdfTableSet.Total;
        Assert.NotNull(CdfTableSet.Create(new[] { big }, new[] { 0 }));
        Assert.Throws<EdgeCodecFormatException>(() => CdfTableSet.Create(new[] { tooBig }, new[] { 0 }));

        int[] small = { 0, 1, CdfTableSet.Total };
        var many = Enumerable.Repeat(small, CdfTableSet.MaxTableCount + 1).ToArray();
        Assert.Throws<EdgeCodecFormatException>(() => CdfTableSet.Create(many, new int[many.Length]));
        Assert.Equal(CdfTableSet.MaxTableCount, CdfTableSet.Create(many[1..], new int[many.Length - 1]).TableCount);
        Assert.Throws<ArgumentNullException>(() => CdfTableSet.Create(new int[][] { null! }, new[] { 0 }));
    }

    [Fact]
    public void Accessors_and_copy_semantics()
    {
        int[] cdf = { 0, 10, 20, CdfTableSet.Total };
        var set = CdfTableSet.Create(new[] { cdf }, new[] { -7 });
        cdf[1] = 11;
        Assert.Equal(1, set.TableCount);
        Assert.Equal(-7, set.Offset(0));
        Assert.Equal(2, set.SymbolCount(0));
        Assert.Equal(new[] { 0, 10, 20, CdfTableSet.Total }, set.GetCdf(0).ToArray());
    }

    private static void AssertValid(int[] cdf, int symbols)
    {
        Assert.Equal(symbols + 1, cdf.Length);
        Assert.Equal(0, cdf[0]);
        Assert.Equal(CdfTableSet.Total, cdf[^1]);
        for (int i = 1; i < cdf.Length; i++)
        {
            Assert.True(cdf[i] > cdf[i - 1], $"frequency of symbol {i - 1} is zero");
        }
    }
}
