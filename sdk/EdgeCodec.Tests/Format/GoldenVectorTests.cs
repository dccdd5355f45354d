using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Tests.Entropy;

namespace EdgeCodec.Tests.Format;

/// <summary>
/// Locks the bitstream: regenerates tests/vectors in memory from deterministic inputs and compares bytes and hashes
/// with the committed files. Set EDGECODEC_REGENERATE_VECTORS=1 to rewrite them after an intended format change.
/// </summary>
public sealed class GoldenVectorTests
{
    [Fact]
    public void Committed_vectors_match_the_current_writers()
    {
        SortedDictionary<string, byte[]> vectors = Generate();
        string directory = Path.Combine(FindRepositoryRoot(), "tests", "vectors");
        var sums = new StringBuilder();
        foreach ((string name, byte[] bytes) in vectors)
        {
            sums.Append(CultureInfo.InvariantCulture, $"{Convert.ToHexStringLower(SHA256.HashData(bytes))}  {name}\n");
        }

        byte[] manifest = Encoding.ASCII.GetBytes(sums.ToString());
        if (Environment.GetEnvironmentVariable("EDGECODEC_REGENERATE_VECTORS") == "1")
        {
            Directory.CreateDirectory(directory);
            foreach ((string name, byte[] bytes) in vectors)
            {
                File.WriteAllBytes(Path.Combine(directory, name), bytes);
            }

            File.WriteAllBytes(Path.Combine(directory, "SHA256SUMS"), manifest);
        }

        Assert.Equal(sums.ToString(), File.ReadAllText(Path.Combine(directory, "SHA256SUMS")));
        foreach ((string name, byte[] bytes) in vectors)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(directory, name))), $"{name} differs from the committed vector");
        }
    }

    [Fact]
    public void Committed_vectors_decode()
    {
        string directory = Path.Combine(FindRepositoryRoot(), "tests", "vectors");
        ContainerReadResult result = ContainerReader.Read(File.ReadAllBytes(Path.Combine(directory, "container-small.ecx")));
        Assert.True(result.IsComplete);
        Assert.Equal(8, result.PacketsRecovered);
        ContainerReadResult compact = ContainerReader.Read(File.ReadAllBytes(Path.Combine(directory, "container-compact.ecx")));
        Assert.True(compact.IsComplete);
        Assert.Equal(ContainerLayout.Compact, compact.Layout);
        Assert.Equal(result.Packets.Take(4).Select(p => Convert.ToHexString(p.Payload.Span)), compact.Packets.Select(p => Convert.ToHexString(p.Payload.Span)));
        foreach (string name in new[] { "container-preview.ecx", "container-preview-compact.ecx" })
        {
            ContainerReadResult preview = ContainerReader.Read(File.ReadAllBytes(Path.Combine(directory, name)));
            Assert.True(preview.IsComplete, name);
            Assert.True(preview.Header.PreviewLayer, name);
            Assert.False(result.Header.PreviewLayer);
        }

        // Conformance from the text files alone, integer-only: what a reimplementation in another language would do.
        var cdfs = new List<int[]>();
        var offsets = new List<int>();
        foreach (string line in File.ReadAllLines(Path.Combine(directory, "rans-tables.txt")).Where(l => !l.StartsWith('#')))
        {
            int[] numbers = line.Split(' ').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            offsets.Add(numbers[0]);
            cdfs.Add(numbers[1..]);
        }

        int[][] pairs = File.ReadAllLines(Path.Combine(directory, "rans-symbols.txt")).Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(' ').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        int[] tables = pairs.Select(p => p[0]).ToArray();
        var decoded = new int[tables.Length];
        foreach (string stream in new[] { "rans-stream.bin", "rans-stream-auto.bin" })
        {
            Array.Clear(decoded);
            RansCodec.Decode(File.ReadAllBytes(Path.Combine(directory, stream)), tables, CdfTableSet.Create(cdfs, offsets), decoded);
            Assert.Equal(pairs.Select(p => p[1]).ToArray(), decoded);
        }
    }

    private static SortedDictionary<string, byte[]> Generate()
    {
        var v = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["packet-min-fields.bin"] = PacketFraming.ToArray(FormatSamples.Extremes(max: false)),
            ["packet-max-fields.bin"] = PacketFraming.ToArray(new LatentPacket
            {
                StreamId = uint.MaxValue,
                Sequence = ulong.MaxValue,
                FrameIndex = uint.MaxValue,
                TileIndex = ushort.MaxValue,
                Layer = byte.MaxValue,
                ExpertId = ushort.MaxValue,
                ModelId = ulong.MaxValue,
                Payload = FormatSamples.Bytes(300, 1),
            }),
            ["packet-typical.bin"] = PacketFraming.ToArray(FormatSamples.Packet(3, 4, 1, 40)),
            ["container-small.ecx"] = FormatSamples.Container(),
            ["container-compact.ecx"] = FormatSamples.CompactContainer(),
            ["container-preview.ecx"] = FormatSamples.Container(preview: true), // format version 2
            ["container-preview-compact.ecx"] = FormatSamples.CompactContainer(preview: true),
        };

        CdfTableSet set = TestTables.Gaussian(8);
        (int[] values, int[] tables) = RansSymbols();
        v["rans-stream.bin"] = RansCodec.Encode(values, tables, set, laneCount: 8); // the 8-lane layout of version 1 streams
        v["rans-stream-auto.bin"] = RansCodec.Encode(values, tables, set); // the encoder's choice for a small stream: 1 lane

        var text = new StringBuilder("# one table per line: offset, then the n + 2 CDF entries\n");
        for (int t = 0; t < set.TableCount; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{set.Offset(t)} {string.Join(' ', set.GetCdf(t).ToArray())}\n");
        }

        v["rans-tables.txt"] = Encoding.ASCII.GetBytes(text.ToString());
        text.Clear().Append("# one value per line: table index, value\n");
        for (int i = 0; i < values.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{tables[i]} {values[i]}\n");
        }

        v["rans-symbols.txt"] = Encoding.ASCII.GetBytes(text.ToString());
        return v;
    }

    /// <summary>61 latents over 8 tables (not a multiple of the lane count) plus escapes at both int32 extremes.</summary>
    private static (int[] Values, int[] Tables) RansSymbols()
    {
        (int[] values, int[] tables) = TestTables.LatentStream(61, seed: 2024, tableCount: 8);
        values[5] = int.MinValue;
        values[17] = int.MaxValue;
        values[30] = 1000;
        return (values, tables);
    }

    internal static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeCodec.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EdgeCodec.sln not found above " + AppContext.BaseDirectory);
    }
}
