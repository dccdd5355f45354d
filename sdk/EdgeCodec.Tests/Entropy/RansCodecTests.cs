using System.Buffers;
using CsCheck;
using EdgeCodec.Entropy;
using EdgeCodec.Format;

namespace EdgeCodec.Tests.Entropy;

public sealed class RansCodecTests
{
    private static readonly CdfTableSet Gaussian = TestTables.Gaussian();

    [Fact]
    public void Random_tables_and_streams_round_trip()
    {
        Gen.Select(Gen.Int[1, 8], Gen.Int[1, 300], Gen.Int[0, 2000], Gen.Int)
            .Sample((tableCount, maxSymbols, length, seed) =>
            {
                var rng = new Random(seed);
                CdfTableSet set = TestTables.Random(rng, tableCount, maxSymbols);
                var values = new int[length];
                var tables = new int[length];
                for (int i = 0; i < length; i++)
                {
                    int t = rng.Next(tableCount);
                    tables[i] = t;
                    int n = set.SymbolCount(t);
                    values[i] = rng.Next(20) == 0 ? rng.Next(int.MinValue, int.MaxValue) : set.Offset(t) + rng.Next(-2, n + 2);
                }

                AssertRoundTrip(values, tables, set);
            }, iter: 200);
    }

    [Fact]
    public void Latent_stream_round_trips_and_compresses()
    {
        (int[] values, int[] tables) = TestTables.LatentStream(100_000, seed: 1);
        byte[] data = AssertRoundTrip(values, tables, Gaussian);

        // rANS with 32-bit state loses well under 1% against the ideal code length of the quantized tables.
        double idealBits = 0;
        for (int i = 0; i < values.Length; i++)
        {
            ReadOnlySpan<int> cdf = Gaussian.GetCdf(tables[i]);
            long s = (long)values[i] - Gaussian.Offset(tables[i]);
            int symbol = s >= 0 && s < cdf.Length - 2 ? (int)s : cdf.Length - 2;
            idealBits += -Math.Log2((cdf[symbol + 1] - cdf[symbol]) / 65536.0);
        }

        Assert.InRange(data.Length * 8.0, idealBits, (idealBits * 1.01) + 512);
    }

    [Fact]
    public void Escapes_cover_the_whole_int32_range()
    {
        int[] values = { int.MinValue, int.MaxValue, 0, -1, 1, int.MinValue + 1, int.MaxValue - 1, 1 << 30, -(1 << 30), 12345678, -300, 300 };
        foreach (int t in new[] { 0, 31, 63 })
        {
            AssertRoundTrip(values, Enumerable.Repeat(t, values.Length).ToArray(), Gaussian);
        }

        var extremes = CdfTableSet.Create(new[] { new[] { 0, 1, 2, CdfTableSet.Total } }, new[] { int.MaxValue - 1 });
        AssertRoundTrip(new[] { int.MaxValue, int.MaxValue - 1, int.MinValue, 0, int.MaxValue - 2 }, new int[5], extremes);
        var low = CdfTableSet.Create(new[] { new[] { 0, 1, 2, CdfTableSet.Total } }, new[] { int.MinValue });
        AssertRoundTrip(new[] { int.MaxValue, int.MinValue, int.MinValue + 1, int.MinValue + 2, 0 }, new int[5], low);
    }

    [Fact]
    public void All_escape_stream_round_trips()
    {
        var rng = new Random(7);
        int[] values = Enumerable.Range(0, 1000).Select(_ => rng.Next(2) == 0 ? rng.Next(int.MinValue, -1000) : rng.Next(1000, int.MaxValue)).ToArray();
        AssertRoundTrip(values, values.Select(v => (int)((uint)v % 64)).ToArray(), Gaussian);
    }

    [Fact]
    public void Adversarial_probability_extremes_round_trip()
    {
        // Symbol 0 has frequency 65534, symbol 1 and the escape have frequency 1.
        var skewed = CdfTableSet.Create(new[] { new[] { 0, 65534, 65535, CdfTableSet.Total } }, new[] { 0 });
        foreach (int length in new[] { 1, 7, 8, 9, 10_000 })
        {
            AssertRoundTrip(new int[length], new int[length], skewed); // max-probability symbol repeated
            AssertRoundTrip(Enumerable.Repeat(1, length).ToArray(), new int[length], skewed); // min-probability, worst renormalisation
            AssertRoundTrip(Enumerable.Repeat(5, length).ToArray(), new int[length], skewed); // min-probability escape repeated
        }

        byte[] worst = RansCodec.Encode(Enumerable.Repeat(1, 8000).ToArray(), new int[8000], skewed);
        Assert.InRange(worst.Length, 8000 * 2 - 100, (8000 * 2) + 100); // 16 bits per symbol, as the frequency says
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Every_length_up_to_three_rounds_of_lanes_round_trips_with_every_lane_count(int lanes)
    {
        for (int length = 0; length <= RansCodec.MaxLaneCount * 3; length++)
        {
            (int[] values, int[] tables) = TestTables.LatentStream(length, seed: length);
            AssertRoundTrip(values, tables, Gaussian);
            byte[] data = RansCodec.Encode(values, tables, Gaussian, lanes);
            Assert.Equal(lanes, data[0]);
            var decoded = new int[length];
            RansCodec.Decode(data, tables, Gaussian, decoded);
            Assert.Equal(values, decoded);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Fewer_lanes_round_trip_worst_case_streams(int lanes)
    {
        var skewed = CdfTableSet.Create(new[] { new[] { 0, 65534, 65535, CdfTableSet.Total } }, new[] { 0 });
        foreach (int value in new[] { 0, 1, 5, int.MinValue })
        {
            int[] values = Enumerable.Repeat(value, 5003).ToArray();
            var tables = new int[values.Length];
            byte[] data = RansCodec.Encode(values, tables, skewed, lanes);
            var decoded = new int[values.Length];
            RansCodec.Decode(data, tables, skewed, decoded);
            Assert.Equal(values, decoded);
        }
    }

    [Fact]
    public void Encoder_uses_fewer_lanes_only_for_small_streams()
    {
        (int[] small, int[] smallTables) = TestTables.LatentStream(300, seed: 21);
        byte[] smallData = RansCodec.Encode(small, smallTables, Gaussian);
        byte[] smallWide = RansCodec.Encode(small, smallTables, Gaussian, 8);
        Assert.Equal(RansCodec.ChooseLaneCount(smallWide.Length), smallData[0]);
        Assert.True(smallData[0] < 8, $"{smallWide.Length}-byte stream kept {smallData[0]} lanes");
        Assert.True(smallData.Length <= smallWide.Length - ((8 - smallData[0]) * 4), $"{smallData.Length} vs {smallWide.Length} bytes");

        (int[] large, int[] largeTables) = TestTables.LatentStream(30_000, seed: 22);
        byte[] largeData = RansCodec.Encode(large, largeTables, Gaussian);
        Assert.True(largeData.Length >= 8 * RansCodec.TargetLaneBytes);
        Assert.Equal(8, largeData[0]);
        Assert.Equal(RansCodec.Encode(large, largeTables, Gaussian, 8), largeData);

        Assert.Equal(1, RansCodec.ChooseLaneCount(0));
        Assert.Equal(1, RansCodec.ChooseLaneCount((2 * RansCodec.TargetLaneBytes) - 1));
        Assert.Equal(2, RansCodec.ChooseLaneCount(2 * RansCodec.TargetLaneBytes));
        Assert.Equal(4, RansCodec.ChooseLaneCount(4 * RansCodec.TargetLaneBytes));
        Assert.Equal(8, RansCodec.ChooseLaneCount(8 * RansCodec.TargetLaneBytes));
        Assert.Throws<ArgumentOutOfRangeException>(() => RansCodec.Encode(small, smallTables, Gaussian, 3));
    }

    [Fact]
    public void Empty_input_is_a_two_byte_header()
    {
        byte[] data = AssertRoundTrip(Array.Empty<int>(), Array.Empty<int>(), Gaussian);
        Assert.Equal(new byte[] { 1, 0 }, data);
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 0 }, RansCodec.Encode(Array.Empty<int>(), Array.Empty<int>(), Gaussian, 8));
    }

    [Fact]
    public void Buffer_writer_overload_matches_array_overload()
    {
        (int[] values, int[] tables) = TestTables.LatentStream(1234, seed: 3);
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(new byte[] { 0xAA });
        int written = RansCodec.Encode(values, tables, Gaussian, writer);
        Assert.Equal(RansCodec.Encode(values, tables, Gaussian), writer.WrittenSpan[1..].ToArray());
        Assert.Equal(written + 1, writer.WrittenCount);
    }

    [Fact]
    public void Every_truncation_and_extension_is_rejected()
    {
        (int[] values, int[] tables) = TestTables.LatentStream(200, seed: 5);
        byte[] data = RansCodec.Encode(values, tables, Gaussian);
        var output = new int[values.Length];
        for (int cut = 0; cut < data.Length; cut++)
        {
            Assert.False(RansCodec.TryDecode(data.AsSpan(0, cut), tables, Gaussian, output, out FormatError error));
            Assert.NotEqual(FormatError.None, error);
        }

        byte[] longer = [.. data, 0];
        var e = Assert.Throws<EdgeCodecFormatException>(() => RansCodec.Decode(longer, tables, Gaussian, output));
        Assert.Equal(FormatError.TrailingData, e.Error);
    }

    [Fact]
    public void Typed_errors_for_lane_damage()
    {
        (int[] values, int[] tables) = TestTables.LatentStream(64, seed: 9);
        byte[] data = RansCodec.Encode(values, tables, Gaussian);
        var output = new int[values.Length];

        // Fewer values than were coded: states do not return to L.
        Assert.False(RansCodec.TryDecode(data, tables.AsSpan(0, 40), Gaussian, output, out FormatError error));
        Assert.True(error is FormatError.FinalStateMismatch or FormatError.TrailingData, error.ToString());

        // A header byte that is no lane count.
        foreach (byte header in new byte[] { 0, 3, 5, 16, 255 })
        {
            byte[] badHeader = (byte[])data.Clone();
            badHeader[0] = header;
            Assert.Equal(FormatError.UnsupportedVersion, Assert.Throws<EdgeCodecFormatException>(() => RansCodec.Decode(badHeader, tables, Gaussian, output)).Error);
        }

        // A valid lane count that is not the one the stream was written with.
        byte[] otherLanes = (byte[])data.Clone();
        otherLanes[0] = (byte)(data[0] == 8 ? 4 : 8);
        Assert.False(RansCodec.TryDecode(otherLanes, tables, Gaussian, output, out error));

        // More values than were coded: a lane runs dry.
        int[] moreTables = [.. tables, .. tables, .. tables];
        Assert.False(RansCodec.TryDecode(data, moreTables, Gaussian, new int[moreTables.Length], out error));
        Assert.NotEqual(FormatError.None, error);

        // Table index outside the set is a caller bug.
        int[] badIndex = (int[])tables.Clone();
        badIndex[3] = 64;
        Assert.Throws<ArgumentOutOfRangeException>(() => RansCodec.Decode(data, badIndex, Gaussian, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => RansCodec.Encode(values, badIndex, Gaussian));
        Assert.Throws<ArgumentException>(() => RansCodec.Decode(data, tables, Gaussian, new int[3]));
    }

    [Fact]
    public void Bit_flips_are_detected_or_harmless()
    {
        (int[] values, int[] tables) = TestTables.LatentStream(300, seed: 11);
        byte[] data = RansCodec.Encode(values, tables, Gaussian);
        var output = new int[values.Length];
        int detected = 0;
        for (int bit = 0; bit < data.Length * 8; bit++)
        {
            data[bit >> 3] ^= (byte)(1 << (bit & 7));
            if (!RansCodec.TryDecode(data, tables, Gaussian, output, out _))
            {
                detected++;
            }

            data[bit >> 3] ^= (byte)(1 << (bit & 7));
        }

        // The end-of-stream state check catches nearly all damage; rANS has no CRC of its own (the packet has one).
        Assert.True(detected > data.Length * 8 * 9 / 10, $"{detected} of {data.Length * 8} flips detected");
    }

    [Fact]
    public async Task Random_bytes_never_hang_or_throw_anything_else()
    {
        var run = Task.Run(() =>
        {
            var rng = new Random(1234);
            CdfTableSet skewed = CdfTableSet.Create(new[] { new[] { 0, 1, 2, CdfTableSet.Total } }, new[] { 0 });
            for (int iter = 0; iter < 20_000; iter++)
            {
                int count = rng.Next(0, 200);
                var tables = new int[count];
                var data = new byte[rng.Next(0, 300)];
                rng.NextBytes(data);
                if (data.Length > 0 && rng.Next(2) == 0)
                {
                    data[0] = (byte)(1 << rng.Next(4));
                }

                CdfTableSet set = rng.Next(2) == 0 ? skewed : Gaussian;
                for (int i = 0; i < count; i++)
                {
                    tables[i] = rng.Next(set.TableCount);
                }

                var output = new int[count];
                try
                {
                    RansCodec.Decode(data, tables, set, output);
                }
                catch (EdgeCodecFormatException)
                {
                }
            }
        });
        Task finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.Same(run, finished);
        await run;
    }

    private static byte[] AssertRoundTrip(int[] values, int[] tables, CdfTableSet set)
    {
        byte[] data = RansCodec.Encode(values, tables, set);
        var decoded = new int[values.Length];
        RansCodec.Decode(data, tables, set, decoded);
        Assert.Equal(values, decoded);
        return data;
    }
}
