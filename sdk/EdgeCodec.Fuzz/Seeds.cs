using System.Buffers;
using EdgeCodec.Adapters;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Streaming.Protocol;

namespace EdgeCodec.Fuzz;

/// <summary>Valid inputs per target, generated in-process (and written by <c>seeds &lt;dir&gt;</c> for AFL/libFuzzer corpora).</summary>
internal static class Seeds
{
    public static List<byte[]> For(string target) => target switch
    {
        "packet" => PacketSeeds(),
        "container" => [Container(complete: true), Container(complete: false), CompactContainer(experts: false), CompactContainer(experts: true), Container(complete: true, preview: true), CompactContainer(experts: true, preview: true)],
        "rans" => [FuzzTargets.RansInput([0, 1, -1, 2, 0, 0, 3, -2, 5, 0, 1], 0), FuzzTargets.RansInput([int.MinValue, 0, int.MaxValue, 100, -100], 3), FuzzTargets.RansInput([], 0)],
        "message" => MessageSeeds(),
        "adapter" => [AdapterSeed(withPatch: false), AdapterSeed(withPatch: true)],
        "onnxpatch" => [OnnxGraph(), [.. OnnxGraph(), 0x0A, 0x00]],
        "latents" => [LatentsSeed(16, 16), LatentsSeed(100, 70), LatentsSeed(100, 70, residualStep: 0)],
        "residual" => [ResidualSeed(1, 0), ResidualSeed(3, 2), ResidualClassSeed(5, 1)],
        "manifest" => [ManifestSeed()],
        "manifestedit" => [[], [0, 7, 1], [1, 0, 14, 2, 0, 5, 0, 9, 8], [0, 40, 15, 0, 41, 10]],
        _ => throw new ArgumentException($"Unknown target '{target}'."),
    };

    /// <summary>The bundled pack's manifest as a version-2 one, so the ONNX graphs <see cref="FuzzTargets.PackEntries"/> leaves out may be missing.</summary>
    internal static byte[] ManifestSeed()
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(EdgeCodec.Models.ModelPack.FindDefaultPath());
        using var reader = new StreamReader(zip.GetEntry("manifest.json")!.Open());
        string json = reader.ReadToEnd();
        return System.Text.Encoding.UTF8.GetBytes(json.Replace("\"format_version\": 1,", "\"format_version\": 2,", StringComparison.Ordinal));
    }

    /// <summary>A valid payload for a tile of <paramref name="blocks"/> blocks: a few values per block, as pictures give.</summary>
    private static byte[] ResidualSeed(int blocks, int step)
    {
        var values = new int[blocks * EdgeCodec.Codec.Residual.ResidualTransform.Coefficients];
        for (int i = 0; i < values.Length; i += 37)
        {
            values[i] = (i % 5) - 2;
        }

        var indices = Enumerable.Range(0, values.Length).Select(i => i % EdgeCodec.Codec.Residual.ResidualTransform.Coefficients % FuzzTargets.Tables.TableCount).ToArray();
        byte[] stream = EdgeCodec.Entropy.RansCodec.Encode(values, indices, FuzzTargets.Tables);
        return [(byte)(blocks - 1), (byte)step, .. stream];
    }

    /// <summary>A valid payload of the block-class tables for <paramref name="blocks"/> blocks, every other one quiet.</summary>
    private static byte[] ResidualClassSeed(int blocks, int step)
    {
        var values = new int[blocks * EdgeCodec.Codec.Residual.ResidualTransform.Coefficients];
        for (int i = 0; i < values.Length; i += 29)
        {
            values[i] = i / EdgeCodec.Codec.Residual.ResidualTransform.Coefficients % 2 == 0 ? 0 : (i % 7) - 3;
        }

        byte[] payload = EdgeCodec.Codec.Residual.ResidualLayer.Encode(FuzzTargets.ResidualClasses, FuzzTargets.Tables, 0, step, values);
        return [(byte)((blocks - 1) | 8), .. payload];
    }

    /// <summary>A valid refined-latents file for a <paramref name="width"/>×<paramref name="height"/> image under the bundled pack.</summary>
    private static byte[] LatentsSeed(int width, int height, int? residualStep = null)
    {
        var layout = FuzzTargets.Pack.Layout;
        int lw = (width + 63) / 64 * 4, lh = (height + 63) / 64 * 4;
        var y = new float[layout.LatentChannels * lw * lh];
        var z = new int[layout.HyperChannels * (lw / 4) * (lh / 4)];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = ((i * 7) % 11) - 5 + 0.25f;
        }

        return RefinedLatents.Serialize(FuzzTargets.Pack.ModelId, 1, width, height,
            [layout.LatentChannels, lh, lw, layout.HyperChannels, lh / 4, lw / 4], y, z, 60, residualStep);
    }

    private static List<byte[]> PacketSeeds()
    {
        var two = new ArrayBufferWriter<byte>();
        PacketFraming.Write(two, Packet(0, 0, 0, 8));
        PacketFraming.Write(two, Packet(1, 2, 1, 20));
        return [[0, .. PacketFraming.ToArray(Packet(0, 0, 0, 4))], [3, .. two.WrittenSpan]];
    }

    private static List<byte[]> MessageSeeds()
    {
        var output = new ArrayBufferWriter<byte>();
        var scratch = new ArrayBufferWriter<byte>();
        var packet = Packet(0, 1, 0, 12);
        byte[] body = MessageCodec.SerializePacketBody(packet);
        MessageCodec.Write(output, new HelloMessage { Role = 1, StreamId = 1, ModelId = 42, AdapterIds = [1, 2], Sequence = 3 }, scratch);
        MessageCodec.Write(output, new HeaderMessage { StreamId = 1, FrameIndex = 0, Header = ContainerHeader.Create(42, 64, 32, 32, 32, 2, 0, 1) }, scratch);
        MessageCodec.Write(output, new HeaderMessage { StreamId = 1, FrameIndex = 1, Header = ContainerHeader.Create(42, 64, 32, 32, 32, 3, 0, 1, previewLayer: true) }, scratch);
        MessageCodec.WriteLatent(output, body);
        MessageCodec.WriteRaw(output, MessageCodec.SerializeCompactLatent(packet, body));
        MessageCodec.Write(output, new AckMessage { Cumulative = 2, Ranges = [(4, 6)] }, scratch);
        byte[] sha = new byte[32];
        MessageCodec.Write(output, new AdapterChunkMessage { ExpertId = 2, Sha256 = sha, Total = 100, Offset = 90, Data = new byte[10] }, scratch);
        MessageCodec.Write(output, new AdapterStatusMessage { ExpertId = 2, Sha256 = sha, Have = 100, State = 1 }, scratch);
        MessageCodec.Write(output, new ByeMessage { Reason = 0, Text = "bye" }, scratch);
        return [[0, .. output.WrittenSpan], [5, .. output.WrittenSpan]];
    }

    private static byte[] AdapterSeed(bool withPatch)
    {
        var manifest = System.Text.Encoding.UTF8.GetBytes(
            "{\"id\":\"seed\",\"expert_id\":3,\"domain\":\"test\",\"version\":1,\"base_model_sha256\":\"" + new string('a', 64)
            + "\",\"layer_outputs\":[\"a1\"],\"layer_channels\":[2]}");
        byte[] weights = new byte[2 * 12];
        weights[8] = 1; // mult[0] = 1
        weights[12] = 1; // mult[1] = 1
        weights[16] = 1; // shift[0] = 1
        weights[20] = 1; // shift[1] = 1
        return AdapterPackage.FromParts(manifest, weights, withPatch ? FuzzTargets.PatchFor(OnnxGraph(), "w", 4) : null).ToBytes();
    }

    /// <summary>A minimal ModelProto: graph (7) holding one initializer (5) with name (8) "w" and raw_data (9) of 4 bytes.</summary>
    private static byte[] OnnxGraph()
    {
        byte[] tensor = [0x42, 0x01, (byte)'w', 0x4A, 0x04, 1, 2, 3, 4];
        byte[] graph = [0x2A, (byte)tensor.Length, .. tensor];
        return [0x08, 0x08, 0x3A, (byte)graph.Length, .. graph];
    }

    private static LatentPacket Packet(uint frame, ushort tile, byte layer, int payload) => new()
    {
        StreamId = 1,
        Sequence = frame,
        FrameIndex = frame,
        TileIndex = tile,
        Layer = layer,
        ModelId = 42,
        Payload = Enumerable.Range(0, payload).Select(i => (byte)(i * 37)).ToArray(),
    };

    private static byte[] Container(bool complete, bool preview = false)
    {
        using var stream = new MemoryStream();
        using (var writer = new ContainerWriter(stream, ContainerHeader.Create(42, 64, 32, 32, 32, layerCount: 2, frameCount: 1, previewLayer: preview), leaveOpen: true))
        {
            writer.Append(Packet(0, 0, 0, 6));
            writer.Append(Packet(0, 1, 0, 5));
            writer.Append(Packet(0, 0, 1, 9));
            if (complete)
            {
                writer.Complete();
            }
        }

        return stream.ToArray();
    }

    private static byte[] CompactContainer(bool experts, bool preview = false)
    {
        using var stream = new MemoryStream();
        LatentPacket[] packets = [Packet(0, 0, 0, 6), Packet(0, 1, 0, 5), Packet(0, 0, 1, 9), Packet(0, 1, 1, 3)];
        if (experts)
        {
            packets[1] = new LatentPacket { TileIndex = 1, ModelId = 42, ExpertId = 300, Payload = packets[1].Payload };
        }

        ContainerWriter.Write(ContainerHeader.Create(42, 64, 32, 32, 32, layerCount: 2, frameCount: 1, previewLayer: preview), packets, stream, ContainerLayout.Compact);
        return stream.ToArray();
    }
}
