using System.Buffers;
using EdgeCodec.Entropy;
using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Codec.Residual;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Streaming;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Fuzz;

/// <summary>
/// The fuzz targets. Each parses untrusted bytes and may only fail with <see cref="EdgeCodecFormatException"/>;
/// any other exception, a hang or a crash is a bug.
/// </summary>
internal static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["packet"] = Packet,
        ["container"] = Container,
        ["rans"] = Rans,
        ["message"] = Message,
        ["adapter"] = Adapter,
        ["onnxpatch"] = OnnxPatchBase,
        ["latents"] = Latents,
        ["residual"] = Residual,
        ["manifest"] = Manifest,
        ["manifestedit"] = ManifestEdit,
    };

    /// <summary>A fixed table set: 16 two-sided geometric tables of widths 3..93, built with integers only.</summary>
    /// <remarks>Built on first use, inside the fuzzer loop: instrumented EdgeCodec code must not run before SharpFuzz attaches AFL's shared memory.</remarks>
    public static CdfTableSet Tables => s_tables ??= BuildTables();

    private static CdfTableSet? s_tables;

    private static ModelPack? s_pack;

    /// <summary>The bundled default pack, loaded on first use (inside the fuzzer loop, like <see cref="Tables"/>).</summary>
    public static ModelPack Pack => s_pack ??= ModelPack.LoadDefault();

    private static PacketReaderOptions? s_packetOptions;
    private static ContainerReadOptions? s_containerOptions;

    private static PacketReaderOptions PacketOptions => s_packetOptions ??= new() { MaxFrameSize = 1 << 16, MaxPayloadSize = 1 << 16 };

    private static ContainerReadOptions ContainerOptions => s_containerOptions ??= new() { MaxFileSize = 1 << 20, MaxPackets = 4096, Packet = PacketOptions };

    /// <summary>Framing + packet parse; the first byte picks the segment size so multi-segment paths are fuzzed too.</summary>
    public static void Packet(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        ReadOnlySequence<byte> buffer = Segmented(input.AsMemory(1), 1 + (input[0] & 7));
        try
        {
            while (PacketFraming.TryRead(ref buffer, PacketOptions, out _))
            {
            }
        }
        catch (EdgeCodecFormatException)
        {
        }
    }

    public static void Container(byte[] input)
    {
        ContainerReadResult read;
        try
        {
            read = ContainerReader.Read(input, ContainerOptions);
        }
        catch (EdgeCodecFormatException)
        {
            return;
        }

        // Whatever was read converts to a file with a preview layer (or, having one, to a file without) or fails
        // with a typed error, and the result reads back; a preview file made from a plain one converts back.
        try
        {
            using var converted = new MemoryStream();
            bool adding = !read.Header.PreviewLayer;
            int written = adding
                ? ContainerWriter.WriteWithPreviewLayer(read, converted, ContainerLayout.Indexed)
                : ContainerWriter.WriteWithoutPreviewLayer(read, converted, ContainerLayout.Indexed);
            var back = ContainerReader.Read(converted.ToArray(), ContainerOptions);
            if (back.Header.PreviewLayer != adding || back.PacketsRecovered != written)
            {
                throw new InvalidOperationException($"A converted container read back as {back.PacketsRecovered} of {written} packets.");
            }

            if (adding && back.Header.LayerCount >= 2)
            {
                using var plain = new MemoryStream();
                ContainerWriter.WriteWithoutPreviewLayer(back, plain, ContainerLayout.Indexed);
                var again = ContainerReader.Read(plain.ToArray(), ContainerOptions);
                if (again.Header.PreviewLayer || again.Header.LayerCount != read.Header.LayerCount)
                {
                    throw new InvalidOperationException("A container with a preview layer added did not convert back.");
                }
            }
        }
        catch (EdgeCodecFormatException)
        {
        }
        catch (ArgumentException) when (read.Header.LayerCount == byte.MaxValue || (read.Header.PreviewLayer && read.Header.LayerCount < 2))
        {
        }
    }

    /// <summary>rANS decode: the first two bytes give the value count, table index i is (i * 7 + byte 2) % 16.</summary>
    public static void Rans(byte[] input)
    {
        if (input.Length < 3)
        {
            return;
        }

        int count = (input[0] | (input[1] << 8)) & 0x3FFF;
        var tables = new int[count];
        for (int i = 0; i < count; i++)
        {
            tables[i] = ((i * 7) + input[2]) % Tables.TableCount;
        }

        var values = new int[count];
        RansCodec.TryDecode(input.AsSpan(3), tables, Tables, values, out _);
    }

    private static ResidualTables? s_residual;
    private static ResidualTables? s_residualClasses;

    /// <summary>The residual target's tables of 3 block classes per step (class 0 codes nothing).</summary>
    internal static ResidualTables ResidualClasses => s_residualClasses ??= new ResidualTables([1, 100, 1000, ResidualTables.MaxStepQ2],
        [.. Enumerable.Range(0, 4 * 3 * ResidualTransform.Coefficients).Select(i => i / ResidualTransform.Coefficients % 3 == 0 ? ResidualTables.NotCoded : (byte)(i % Tables.TableCount))],
        1, Tables.TableCount, 3, [.. Enumerable.Range(0, 4 * 3 * 2).Select(i => (byte)(i * 37))]);

    /// <summary>
    /// A residual-layer payload (docs/format.md, "The residual layer") for a tile of 1..8 blocks (byte 0, bits 0-2)
    /// decoded with 4 steps over <see cref="Tables"/>, with one table per step or (bit 3) 3 block classes, one of
    /// which codes nothing, then added to a picture: every symbol the stream can produce goes through the integer inverse.
    /// </summary>
    public static void Residual(byte[] input)
    {
        if (input.Length < 1)
        {
            return;
        }

        s_residual ??= new ResidualTables([1, 100, 1000, ResidualTables.MaxStepQ2],
            [.. Enumerable.Range(0, 4 * ResidualTransform.Coefficients).Select(i => (byte)(i % Tables.TableCount))], 1, Tables.TableCount);
        int blocks = 1 + (input[0] & 7);
        var tables = (input[0] & 8) == 0 ? s_residual : ResidualClasses;
        try
        {
            var (step, symbols) = ResidualLayer.Decode(input.AsSpan(1), tables, Tables, 0, blocks);
            var picture = new RgbImage(16 * blocks, 16);
            ResidualTransform.Apply(symbols, tables.StepsQ2[step], (0, 0, 16 * blocks, 16), picture);
        }
        catch (EdgeCodecFormatException)
        {
        }
    }

    /// <summary>Session messages (docs/streaming.md) over segmented input; a compact LATENT is also rebuilt and CRC-checked.
    /// May only fail with <see cref="StreamProtocolException"/>.</summary>
    public static void Message(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        ReadOnlySequence<byte> buffer = Segmented(input.AsMemory(1), 1 + (input[0] & 7));
        try
        {
            while (MessageCodec.TryRead(ref buffer, 1 << 16, out var message))
            {
                if (message is CompactLatentMessage compact)
                {
                    _ = compact.ToPacket(1, 42);
                }
            }
        }
        catch (StreamProtocolException)
        {
        }
    }

    /// <summary>Adapter packages (ZIP, JSON manifest, weights, optional ONNX patch, signature) from untrusted bytes.</summary>
    public static void Adapter(byte[] input)
    {
        try
        {
            var package = AdapterPackage.Read(input);
            _ = package.ToBytes();
        }
        catch (EdgeCodecFormatException)
        {
        }
    }

    private static Dictionary<string, byte[]>? s_packEntries;

    /// <summary>
    /// The bundled pack's entries without <c>manifest.json</c> and without its ONNX graphs (what a decoder-only copy
    /// holds), read once, inside the fuzzer loop like <see cref="Pack"/>.
    /// </summary>
    public static Dictionary<string, byte[]> PackEntries => s_packEntries ??= ReadPackEntries(ModelPack.FindDefaultPath());

    /// <summary>
    /// A model pack's <c>manifest.json</c> from untrusted bytes, over the bundled pack's other entries (as a
    /// version-2 decoder-only copy: the ONNX graphs left out): layout, levels, tensor directory, integer graphs, CDFs
    /// and residual tables are all parsed from what the manifest says.
    /// </summary>
    public static void Manifest(byte[] input)
    {
        var entries = new Dictionary<string, byte[]>(PackEntries, StringComparer.Ordinal) { ["manifest.json"] = input };
        ModelPack pack;
        try
        {
            pack = ModelPackReader.ReadEntries(entries);
        }
        catch (EdgeCodecFormatException)
        {
            return;
        }

        RunOneTile(pack, input.Length % pack.QualityLevels.Count);
    }

    /// <summary>
    /// A pack that loads must run without further checks (<see cref="ModelPack"/>'s promise): one 64×64 tile through
    /// the hyper decoder, every context model (its scale indices code zeros through rANS and back) and the synthesis
    /// at one quality level (all seven would take ~0.1 s an input). Any exception here is a finding.
    /// </summary>
    private static void RunOneTile(ModelPack pack, int quality)
    {
        int h = pack.Layout.HyperStride / pack.Layout.LatentStride;
        var z = new Inference.I32Tensor(pack.Layout.HyperChannels, 1, 1);
        Inference.I32Tensor y = new TileEntropyPath(pack).Run(z, (_, mean, index) =>
        {
            var symbols = new int[mean.Length];
            byte[] stream = RansCodec.Encode(symbols, index.Data, pack.GaussianTables);
            RansCodec.Decode(stream, index.Data, pack.GaussianTables, symbols);
            return symbols;
        });
        if (y.Channels != pack.Layout.LatentChannels || y.Height != h || y.Width != h)
        {
            throw new InvalidOperationException($"The entropy path made a {y.Channels}×{y.Height}×{y.Width} latent for a {h}×{h} tile.");
        }

        new Inference.IntegerSynthesis(pack).Run(y, quality);
    }

    private static System.Text.Json.Nodes.JsonObject? s_manifestSeed;

    /// <summary>The bundled pack's manifest, as version 2, parsed once.</summary>
    private static System.Text.Json.Nodes.JsonObject ManifestSeedTree
        => s_manifestSeed ??= System.Text.Json.Nodes.JsonNode.Parse(Seeds.ManifestSeed())!.AsObject();

    /// <summary>
    /// Structure-aware: most byte mutations of a manifest only break its JSON, so here the input is a list of edits
    /// of the bundled manifest's tree, 3 bytes each (a node by index in document order, then one of 16 operations:
    /// boundary numbers, another type, removal, an empty container, a duplicated array element), and the edited
    /// tree goes through the reader as <see cref="Manifest"/> does. Every edit keeps the JSON valid, so every input
    /// reaches the layout, tensor, graph, CDF and residual checks.
    /// </summary>
    public static void ManifestEdit(byte[] input)
    {
        var tree = (System.Text.Json.Nodes.JsonObject)ManifestSeedTree.DeepClone();
        for (int i = 0; i + 2 < input.Length && i < 3 * 16; i += 3)
        {
            var nodes = new List<System.Text.Json.Nodes.JsonNode>();
            Flatten(tree, nodes);
            var node = nodes[((input[i] << 8) | input[i + 1]) % nodes.Count];
            Edit(node, input[i + 2] & 15);
        }

        Manifest(System.Text.Encoding.UTF8.GetBytes(tree.ToJsonString()));
    }

    private static void Flatten(System.Text.Json.Nodes.JsonNode node, List<System.Text.Json.Nodes.JsonNode> into)
    {
        foreach (var child in node switch
        {
            System.Text.Json.Nodes.JsonObject o => o.Select(p => p.Value),
            System.Text.Json.Nodes.JsonArray a => a,
            _ => [],
        })
        {
            if (child is not null)
            {
                into.Add(child);
                Flatten(child, into);
            }
        }
    }

    private static void Edit(System.Text.Json.Nodes.JsonNode node, int op)
    {
        System.Text.Json.Nodes.JsonNode? value = op switch
        {
            0 => 0,
            1 => -1,
            2 => 1,
            3 => 255,
            4 => 256,
            5 => int.MaxValue,
            6 => (long)int.MaxValue + 1,
            7 => int.MinValue,
            8 => 1e300,
            9 => -0.5,
            10 => "x",
            11 => null,
            12 => new System.Text.Json.Nodes.JsonArray(),
            13 => new System.Text.Json.Nodes.JsonObject(),
            _ => node.DeepClone(), // 14: remove; 15: duplicate (in an array) or replace by itself
        };
        switch (node.Parent)
        {
            case System.Text.Json.Nodes.JsonObject o:
                string key = node.GetPropertyName();
                if (op == 14)
                {
                    o.Remove(key);
                }
                else
                {
                    o[key] = value;
                }

                break;
            case System.Text.Json.Nodes.JsonArray a:
                int index = node.GetElementIndex();
                if (op == 14)
                {
                    a.RemoveAt(index);
                }
                else if (op == 15)
                {
                    a.Insert(index, value);
                }
                else
                {
                    a[index] = value;
                }

                break;
        }
    }

    private static Dictionary<string, byte[]> ReadPackEntries(string path)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries.Where(e => e.FullName != "manifest.json" && !e.FullName.StartsWith("onnx/", StringComparison.Ordinal)))
        {
            using var s = entry.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            entries[entry.FullName] = m.ToArray();
        }

        return entries;
    }

    /// <summary>Refined-latents files (the studio encoder's output) checked against the bundled pack.</summary>
    public static void Latents(byte[] input)
    {
        try
        {
            _ = RefinedLatents.Read(input, Pack);
        }
        catch (EdgeCodecFormatException)
        {
        }
    }

    /// <summary>
    /// The ONNX patcher's protobuf walk on an untrusted "base graph": the input is the graph, and the patch is built to
    /// match its hash, so every input reaches the walker. May only fail with <see cref="AdapterVerificationException"/>.
    /// </summary>
    public static void OnnxPatchBase(byte[] input)
    {
        try
        {
            _ = OnnxPatch.Apply(input, PatchFor(input, "w", 4), "fuzz");
        }
        catch (AdapterVerificationException)
        {
        }
    }

    /// <summary>An ONNX patch for <paramref name="graph"/> that rewrites initializer <paramref name="name"/> with zeros.</summary>
    public static byte[] PatchFor(byte[] graph, string name, int length)
    {
        byte[] nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        var patch = new List<byte>("ECOP"u8.ToArray()) { 1, 0, 0, 0 };
        patch.AddRange(System.Security.Cryptography.SHA256.HashData(graph));
        patch.AddRange(new byte[32]); // result hash: never matches, so a walk that finds the initializer still ends in a clear refusal
        patch.AddRange([1, 0, 0, 0, (byte)nameBytes.Length, 0, .. nameBytes, (byte)length, 0, 0, 0]);
        patch.AddRange(new byte[length]);
        return [.. patch];
    }

    /// <summary>Builds a rans-target input from values, for seeds.</summary>
    public static byte[] RansInput(int[] values, byte salt)
    {
        var tables = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            tables[i] = ((i * 7) + salt) % Tables.TableCount;
        }

        byte[] stream = RansCodec.Encode(values, tables, Tables);
        return [(byte)values.Length, (byte)(values.Length >> 8), salt, .. stream];
    }

    private static CdfTableSet BuildTables()
    {
        var cdfs = new List<int[]>();
        var offsets = new List<int>();
        for (int t = 0; t < 16; t++)
        {
            int half = 1 + (3 * t);
            var weights = new long[(2 * half) + 2];
            for (int k = -half; k <= half; k++)
            {
                weights[k + half] = 1L << Math.Max(0, 40 - (Math.Abs(k) * 40 / half));
            }

            weights[^1] = 1;
            cdfs.Add(CdfTableSet.QuantizePmf(weights));
            offsets.Add(-half);
        }

        return CdfTableSet.Create(cdfs, offsets);
    }

    private static ReadOnlySequence<byte> Segmented(ReadOnlyMemory<byte> data, int size)
    {
        if (data.Length <= size)
        {
            return new ReadOnlySequence<byte>(data);
        }

        var first = new Segment(data[..size], 0);
        Segment last = first;
        for (int i = size; i < data.Length; i += size)
        {
            last = last.Append(data.Slice(i, Math.Min(size, data.Length - i)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
