using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeCodec.Format;
using EdgeCodec.Models;

namespace EdgeCodec.Tests.Models;

public sealed class ModelPackTests
{
    private static byte[] PackBytes => File.ReadAllBytes(TestPacks.PackPath!);

    private static EdgeCodecFormatException Rejects(byte[] bytes, string? fileName = null)
        => Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(bytes), fileName));

    [PackFact]
    public void Real_pack_loads_with_sane_layout()
    {
        byte[] bytes = PackBytes;
        ModelPack pack = ModelPack.Load(TestPacks.PackPath!);
        byte[] hash = pack.FormatVersion == 1 ? SHA256.HashData(bytes) : SHA256.HashData(PackEditor.Entry(bytes, "manifest.json"));
        Assert.Equal(Convert.ToHexStringLower(hash), pack.Sha256);
        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(hash), pack.ModelId);
        Assert.StartsWith("edgecodec-hp-" + pack.Sha256[..12], Path.GetFileName(TestPacks.PackPath!), StringComparison.Ordinal);

        ModelLayout l = pack.Layout;
        Assert.Equal(l.LatentChannels, l.Groups * l.GroupChannels);
        Assert.True(l.HyperChannels > 0 && l.Groups > 0);
        Assert.Equal(16, l.LatentStride);
        Assert.Equal(64, l.HyperStride);
        Assert.Equal(0, l.TileSize % l.HyperStride);
        Assert.InRange(l.SynthesisHalo, 3, 16);
        Assert.Equal(4, l.MeanFractionBits);
        Assert.Equal(l.ScaleLevels, pack.GaussianTables.TableCount);
        Assert.Equal(l.HyperChannels, pack.FactorizedTables.TableCount);

        Assert.NotEmpty(pack.QualityLevels);
        for (int i = 0; i < pack.QualityLevels.Count; i++)
        {
            Assert.Equal(i, pack.QualityLevels[i].Level);
            Assert.Equal(l.LatentChannels, pack.QualityLevels[i].Gain.Length);
            Assert.True(pack.QualityLevels[i].Lambda > 0);
        }

        foreach (string entry in new[] { ModelPack.AnalysisEntry, ModelPack.HyperAnalysisEntry, ModelPack.SynthesisQdqEntry, ModelPack.SynthesisFp32Entry })
        {
            Assert.True(pack.HasEntry(entry));
            Assert.True(pack.GetEntry(entry).Length > 1000, entry);
        }

        Assert.Throws<KeyNotFoundException>(() => pack.GetEntry("weights.bin"));
        Assert.Contains("Model card", pack.ModelCard, StringComparison.Ordinal);
        Assert.True(pack.DecoderKmacPerPixel > 1);
        Assert.Equal(["z"], pack.HyperGraph.Inputs.Select(i => i.Name));
        Assert.Equal(["hyper"], pack.HyperGraph.Outputs);
        Assert.Equal(["rgb"], pack.SynthesisGraph.Outputs);
        for (int k = 0; k < l.Groups; k++)
        {
            Assert.Equal(new[] { $"mean{k}", $"index{k}" }.Order(), pack.ContextGraph(k).Outputs.Order());
        }
    }

    [PackFact]
    public void LoadDefault_finds_a_pack()
    {
        ModelPack pack = ModelPack.LoadDefault();
        Assert.Equal(64, pack.Sha256.Length);
    }

    [PackFact]
    public void Loading_from_a_stream_without_name_gives_the_same_identity()
    {
        ModelPack a = ModelPack.Load(TestPacks.PackPath!);
        ModelPack b = ModelPack.Load(new MemoryStream(PackBytes));
        Assert.Equal(a.Sha256, b.Sha256);
        Assert.Equal(a.ModelId, b.ModelId);
    }

    [PackFact]
    public void Flipped_byte_inside_weights_is_an_entry_hash_mismatch()
    {
        byte[] bad = PackEditor.Rewrite(PackBytes, (name, data) =>
        {
            if (name == "weights.bin")
            {
                data[data.Length / 2] ^= 0x01;
            }

            return data;
        });
        EdgeCodecFormatException ex = Rejects(bad);
        Assert.Contains("'weights.bin'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
        Assert.Equal(FormatError.CrcMismatch, ex.Error);
    }

    [PackFact]
    public void Flipped_byte_in_the_raw_file_names_the_damaged_entry()
    {
        byte[] bytes = PackBytes;
        byte[] weights = ExtractWeights(bytes);
        // Locate the stored weights.bin bytes inside the file by a unique probe from its middle.
        int probe = weights.Length / 2;
        int at = bytes.AsSpan().IndexOf(weights.AsSpan(probe, 64));
        Assert.True(at > 0);
        bytes[at] ^= 0x80;
        EdgeCodecFormatException ex = Rejects(bytes);
        Assert.Contains("weights.bin", ex.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Edited_manifest_under_the_original_name_is_a_content_hash_mismatch()
    {
        byte[] bad = PackEditor.EditManifest(PackBytes, m => m["name"] = "someone-else");
        EdgeCodecFormatException ex = Rejects(bad, TestPacks.PackPath);
        Assert.Contains("file name says content hash", ex.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void A_manifest_string_that_is_not_utf8_is_malformed()
    {
        // Found by the manifest fuzz target: System.Text.Json reads a string's bytes only when asked, and threw
        // InvalidOperationException there. The name's first byte becomes 0xFF (never valid UTF-8).
        byte[] bad = PackEditor.Rewrite(PackBytes, (name, data) =>
        {
            if (name != "manifest.json")
            {
                return data;
            }

            int at = System.Text.Encoding.UTF8.GetString(data).IndexOf("\"name\": \"", StringComparison.Ordinal) + 9;
            Assert.True(at > 9);
            data[at] = 0xFF;
            return data;
        });
        EdgeCodecFormatException ex = Rejects(bad);
        Assert.Equal(FormatError.Malformed, ex.Error);
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Edited_manifest_problems_are_named()
    {
        byte[] good = PackBytes;
        Assert.Contains("format_version 3", Rejects(PackEditor.EditManifest(good, m => m["format_version"] = 3)).Message, StringComparison.Ordinal);
        Assert.Contains("architecture", Rejects(PackEditor.EditManifest(good, m => m["architecture"] = "resnet")).Message, StringComparison.Ordinal);
        Assert.Contains("latent_channels", Rejects(PackEditor.EditManifest(good, m => m["layout"]!["latent_channels"] = 129)).Message, StringComparison.Ordinal);
        Assert.Contains("zero point 5", Rejects(PackEditor.EditManifest(good, m => PackEditor.Node(m, "synthesis", "conv")["zp"] = 5)).Message, StringComparison.Ordinal);
        Assert.Contains("clamp range", Rejects(PackEditor.EditManifest(good, m => PackEditor.Node(m, "synthesis", "conv")["lo"] = 300)).Message, StringComparison.Ordinal);
        Assert.Contains("expected i8", Rejects(PackEditor.EditManifest(good, m =>
        {
            JsonObject conv = PackEditor.Node(m, "synthesis", "conv");
            conv["weight"] = (string)conv["bias"]!;
        })).Message, StringComparison.Ordinal);
        Assert.Contains("neither produced", Rejects(PackEditor.EditManifest(good, m =>
            PackEditor.Node(m, "hyper", "conv")["inputs"] = new JsonArray("nope"))).Message, StringComparison.Ordinal);
        Assert.Contains("not in the tensor directory", Rejects(PackEditor.EditManifest(good, m =>
            PackEditor.Node(m, "context0", "conv")["mult"] = "missing.mult")).Message, StringComparison.Ordinal);
        Assert.Contains("input channels", Rejects(PackEditor.EditManifest(good, m =>
        {
            // context1's first conv reads hyper + y0; dropping y0 leaves fewer channels than the weight expects.
            JsonObject conv = PackEditor.Node(m, "context1", "conv");
            conv["inputs"] = new JsonArray("hyper");
        })).Message, StringComparison.Ordinal);
        Assert.Contains("length", Rejects(PackEditor.EditManifest(good, m =>
            m["tensors"]!.AsArray()[2]!["length"] = 12)).Message, StringComparison.Ordinal);
        Assert.Contains("weights.bin", Rejects(PackEditor.EditManifest(good, m =>
            m["tensors"]!.AsArray()[0]!["offset"] = 1L << 40)).Message, StringComparison.Ordinal);
        Assert.Contains("'cdf/gaussian.json'", Rejects(PackEditor.EditManifest(good, m =>
            m["files"]!["cdf/gaussian.json"] = new string('0', 64))).Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Truncated_file_is_rejected()
    {
        byte[] bytes = PackBytes;
        EdgeCodecFormatException noName = Rejects(bytes[..(bytes.Length - 100)]);
        Assert.Contains("ZIP", noName.Message, StringComparison.Ordinal);
        EdgeCodecFormatException named = Rejects(bytes[..(bytes.Length / 2)], TestPacks.PackPath);
        Assert.Contains("file name says content hash", named.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Renamed_file_with_a_wrong_hash_is_rejected()
    {
        string dir = Directory.CreateTempSubdirectory("edgecodec-pack-").FullName;
        try
        {
            string renamed = Path.Combine(dir, "edgecodec-hp-0123456789ab.ecpack");
            File.Copy(TestPacks.PackPath!, renamed);
            EdgeCodecFormatException ex = Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(renamed));
            Assert.Contains("0123456789ab", ex.Message, StringComparison.Ordinal);
            Assert.Contains("edgecodec-hp-0123456789ab.ecpack", ex.Message, StringComparison.Ordinal);

            string plain = Path.Combine(dir, "my-model.ecpack");
            File.Copy(TestPacks.PackPath!, plain);
            Assert.NotNull(ModelPack.Load(plain));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Garbage_is_not_a_zip()
    {
        var rng = new Random(7);
        byte[] garbage = new byte[5000];
        rng.NextBytes(garbage);
        Assert.Contains("not a valid ZIP", Rejects(garbage).Message, StringComparison.Ordinal);
        Assert.Contains("not a valid ZIP", Rejects([]).Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Zip_missing_an_entry_is_rejected()
    {
        EdgeCodecFormatException ex = Rejects(PackEditor.Rewrite(PackBytes, (name, data) => name == "cdf/gaussian.json" ? null : data));
        Assert.Contains("'cdf/gaussian.json'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);

        EdgeCodecFormatException noManifest = Rejects(PackEditor.Rewrite(PackBytes, (name, data) => name == "manifest.json" ? null : data));
        Assert.Contains("manifest.json", noManifest.Message, StringComparison.Ordinal);
    }

    [PackFact]
    public void Unlisted_extra_entry_is_rejected()
    {
        byte[] withExtra = AddEntry(PackBytes, "payload.bin", [1, 2, 3]);
        Assert.Contains("'payload.bin' is not listed", Rejects(withExtra).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_stream_is_rejected_before_reading()
    {
        EdgeCodecFormatException ex = Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new HugeStream()));
        Assert.Equal(FormatError.LimitExceeded, ex.Error);
    }

    [Theory]
    [InlineData("edgecodec-hp-d525a4a07547.ecpack", "d525a4a07547")]
    [InlineData("x-ABCDEF012345.ecpack", "ABCDEF012345")]
    [InlineData("edgecodec-hp.ecpack", null)]
    [InlineData("edgecodec-hp-d525a4a0754z.ecpack", null)]
    [InlineData("edgecodec-hpd525a4a07547.ecpack", null)]
    public void File_name_hash_is_parsed(string name, string? hash)
    {
        Assert.Equal(hash is not null, ModelPackReader.TryGetNameHash(name, out string parsed));
        Assert.Equal(hash ?? "", parsed);
    }

    private static byte[] ExtractWeights(byte[] pack)
    {
        byte[] weights = [];
        PackEditor.Rewrite(pack, (name, data) =>
        {
            if (name == "weights.bin")
            {
                weights = data;
            }

            return data;
        });
        return weights;
    }

    private static byte[] AddEntry(byte[] pack, string name, byte[] data)
    {
        var m = new MemoryStream();
        m.Write(pack);
        using (var zip = new ZipArchive(m, ZipArchiveMode.Update, leaveOpen: true))
        {
            using Stream s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            s.Write(data);
        }

        return m.ToArray();
    }

    /// <summary>A seekable stream claiming 1 GiB; reading it would be the bug.</summary>
    private sealed class HugeStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => 1L << 30;

        public override long Position { get; set; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("must not be read");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
