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
        try
        {
            ContainerReader.Read(input, ContainerOptions);
        }
        catch (EdgeCodecFormatException)
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
