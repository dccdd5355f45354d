using System.Text.Json.Nodes;
using EdgeCodec.Codec;
using EdgeCodec.Codec.Residual;
using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Models;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

/// <summary>The residual layer: its normative integer inverse, its payload, and streams that carry it (docs/format.md).</summary>
public sealed class ResidualLayerTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private const int Plane = ResidualTransform.Block * ResidualTransform.Block;

    /// <summary>The inverse as docs/format.md states it, in 64-bit arithmetic: the 32-bit kernel must never differ from it.</summary>
    private static int[] SpecInverse(int[] q, int stepQ2)
    {
        const int N = 16;
        var s = new long[3 * Plane];
        for (int p = 0; p < 3; p++)
        {
            var c = new long[Plane];
            for (int i = 0; i < Plane; i++)
            {
                c[i] = Math.Clamp(Math.Clamp((long)q[(p * Plane) + i], -32768, 32768) * stepQ2, -32768, 32768);
            }

            var t = new long[Plane];
            for (int k = 0; k < N; k++)
            {
                for (int x = 0; x < N; x++)
                {
                    long sum = 4096;
                    for (int l = 0; l < N; l++)
                    {
                        sum += c[(k * N) + l] * ResidualTransform.Cos[(l * N) + x];
                    }

                    t[(k * N) + x] = Math.Clamp(sum >> 13, -32768, 32768);
                }
            }

            for (int y = 0; y < N; y++)
            {
                for (int x = 0; x < N; x++)
                {
                    long sum = 4096;
                    for (int k = 0; k < N; k++)
                    {
                        sum += ResidualTransform.Cos[(k * N) + y] * t[(k * N) + x];
                    }

                    s[(p * Plane) + (y * N) + x] = Math.Clamp(sum >> 13, -32768, 32768);
                }
            }
        }

        var rgb = new int[3 * Plane];
        for (int ch = 0; ch < 3; ch++)
        {
            for (int i = 0; i < Plane; i++)
            {
                long sum = 1 << 14;
                for (int p = 0; p < 3; p++)
                {
                    sum += ResidualTransform.Colour[(ch * 3) + p] * s[(p * Plane) + i];
                }

                rgb[(ch * Plane) + i] = checked((int)(sum >> 15));
            }
        }

        return rgb;
    }

    private static double[] FloatInverse(int[] q, double step)
    {
        var rgb = new double[3 * Plane];
        var planes = new double[3 * Plane];
        for (int p = 0; p < 3; p++)
        {
            for (int y = 0; y < 16; y++)
            {
                for (int x = 0; x < 16; x++)
                {
                    double sum = 0;
                    for (int k = 0; k < 16; k++)
                    {
                        for (int l = 0; l < 16; l++)
                        {
                            sum += q[(p * Plane) + (k * 16) + l] * step * Basis(k, y) * Basis(l, x);
                        }
                    }

                    planes[(p * Plane) + (y * 16) + x] = sum;
                }
            }
        }

        double[,] m = { { 1 / Math.Sqrt(3), 1 / Math.Sqrt(2), 1 / Math.Sqrt(6) }, { 1 / Math.Sqrt(3), 0, -2 / Math.Sqrt(6) }, { 1 / Math.Sqrt(3), -1 / Math.Sqrt(2), 1 / Math.Sqrt(6) } };
        for (int ch = 0; ch < 3; ch++)
        {
            for (int i = 0; i < Plane; i++)
            {
                rgb[(ch * Plane) + i] = (m[ch, 0] * planes[i]) + (m[ch, 1] * planes[Plane + i]) + (m[ch, 2] * planes[(2 * Plane) + i]);
            }
        }

        return rgb;
    }

    private static double Basis(int k, int n) => (k == 0 ? Math.Sqrt(1.0 / 16) : Math.Sqrt(2.0 / 16)) * Math.Cos(Math.PI * (n + 0.5) * k / 16);

    [Fact]
    public void The_constants_are_the_rounded_transform()
    {
        for (int k = 0; k < 16; k++)
        {
            for (int n = 0; n < 16; n++)
            {
                Assert.Equal(Math.Round(8192 * Basis(k, n), MidpointRounding.AwayFromZero), ResidualTransform.Cos[(k * 16) + n]);
            }
        }

        double[] colour = [1 / Math.Sqrt(3), 1 / Math.Sqrt(2), 1 / Math.Sqrt(6), 1 / Math.Sqrt(3), 0, -2 / Math.Sqrt(6), 1 / Math.Sqrt(3), -1 / Math.Sqrt(2), 1 / Math.Sqrt(6)];
        Assert.Equal(colour.Select(v => (short)Math.Round(8192 * v, MidpointRounding.AwayFromZero)), ResidualTransform.Colour.ToArray());
    }

    [Fact]
    public void The_integer_inverse_is_the_specified_arithmetic_on_random_and_extreme_blocks()
    {
        var random = new Random(7);
        var cases = new List<(int[] Q, int Step)>();
        for (int i = 0; i < 40; i++)
        {
            int magnitude = i % 4 == 0 ? 40000 : i % 4 == 1 ? 300 : 6;
            cases.Add(([.. Enumerable.Range(0, 768).Select(_ => random.Next(-magnitude, magnitude + 1))], random.Next(1, ResidualTables.MaxStepQ2 + 1)));
        }

        for (int i = 0; i < 40; i++)
        {
            // Sparse, as pictures are: a few values, whole rows and planes empty.
            int[] q = new int[768];
            for (int j = random.Next(0, 12); j > 0; j--)
            {
                q[random.Next(768)] = random.Next(-40, 41);
            }

            cases.Add((q, random.Next(1, ResidualTables.MaxStepQ2 + 1)));
        }

        foreach (int v in new[] { int.MaxValue, int.MinValue, 32768, -32768, 1 })
        {
            cases.Add((Enumerable.Repeat(v, 768).ToArray(), ResidualTables.MaxStepQ2));
            cases.Add(([.. Enumerable.Range(0, 768).Select(i => (i & 1) == 0 ? v : -v)], ResidualTables.MaxStepQ2));
        }

        var rgb = new int[768];
        var simd = new int[768];
        foreach (var (q, step) in cases)
        {
            ResidualTransform.InverseBlock(q, step, rgb);
            Assert.Equal(SpecInverse(q, step), rgb);
            ResidualInverseSimd.InverseBlock(q, step, simd); // the vector kernel (software vectors where not accelerated)
            Assert.Equal(rgb, simd);
        }
    }

    [Fact]
    public void The_vector_inverse_equals_the_scalar_reference_on_many_blocks_and_steps()
    {
        var random = new Random(19);
        var rgb = new int[768];
        var simd = new int[768];
        for (int i = 0; i < 3000; i++)
        {
            int[] q = new int[768];
            int kind = i % 5;
            int count = kind switch { 0 => 1, 1 => random.Next(2, 30), 2 => random.Next(30, 300), 3 => 768, _ => random.Next(1, 8) };
            for (int j = 0; j < count; j++)
            {
                int at = kind == 3 ? j : random.Next(768);
                q[at] = kind switch
                {
                    3 => random.Next(-3, 4),
                    4 => random.Next(2) == 0 ? int.MaxValue - random.Next(3) : int.MinValue + random.Next(3), // clamped symbols
                    _ => random.Next(-64, 65),
                };
            }

            int step = i % 7 == 0 ? ResidualTables.MaxStepQ2 : random.Next(1, 1200);
            Array.Fill(simd, 12345); // every output is written
            ResidualTransform.InverseBlock(q, step, rgb);
            ResidualInverseSimd.InverseBlock(q, step, simd);
            Assert.Equal(rgb, simd);
        }

        Assert.Equal(System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated, ResidualInverseSimd.IsSelected);
    }

    [Fact]
    public void The_integer_inverse_is_within_a_pixel_of_the_float_transform()
    {
        var random = new Random(11);
        var rgb = new int[768];
        double worst = 0, total = 0;
        for (int i = 0; i < 20; i++)
        {
            // Sparse, picture-like coefficients: a few low frequencies, steps of 1.5 .. 300 pixel values.
            int[] q = new int[768];
            for (int j = 0; j < 24; j++)
            {
                q[random.Next(768) & ~0xC8] = random.Next(-6, 7);
            }

            int step = random.Next(6, 1200);
            ResidualTransform.InverseBlock(q, step, rgb);
            double[] exact = FloatInverse(q, step / 4.0);
            for (int j = 0; j < 768; j++)
            {
                double e = Math.Abs(rgb[j] - exact[j]);
                worst = Math.Max(worst, e);
                total += e;
            }
        }

        Assert.True(worst <= 1.0, $"worst {worst:F3} pixel values");
        Assert.True(total / (20 * 768) < 0.3, $"mean {total / (20 * 768):F3}");
    }

    [Fact]
    public void A_fine_step_codes_the_residual_back_to_the_original()
    {
        var random = new Random(3);
        var original = new RgbImage(40, 24);
        var picture = new RgbImage(40, 24);
        random.NextBytes(original.Pixels);
        for (int i = 0; i < picture.Pixels.Length; i++)
        {
            picture.Pixels[i] = (byte)Math.Clamp(original.Pixels[i] + random.Next(-30, 31), 0, 255);
        }

        var rect = (0, 0, 48, 32); // padded: two block rows, three block columns
        int[] symbols = ResidualTransform.ForwardTile(original, picture, 1, rect);
        Assert.Equal(6 * 768, symbols.Length);
        var decoded = new RgbImage(40, 24, (byte[])picture.Pixels.Clone());
        ResidualTransform.Apply(symbols, 1, rect, decoded);
        int worst = original.Pixels.Zip(decoded.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1, $"worst {worst}");
        Assert.NotEqual(original.Pixels, picture.Pixels);
    }

    [Fact]
    public void Applying_a_tile_on_several_threads_gives_the_same_bytes()
    {
        var random = new Random(9);
        var picture = new RgbImage(70, 50); // the tile's padded rectangle is 80x64: blocks in and beyond the picture
        random.NextBytes(picture.Pixels);
        int[] symbols = new int[5 * 4 * 768];
        for (int i = 0; i < 300; i++)
        {
            symbols[random.Next(symbols.Length)] = random.Next(-9, 10);
        }

        var one = new RgbImage(70, 50, (byte[])picture.Pixels.Clone());
        var three = new RgbImage(70, 50, (byte[])picture.Pixels.Clone());
        ResidualTransform.Apply(symbols, 200, (0, 0, 80, 64), one);
        ResidualTransform.Apply(symbols, 200, (0, 0, 80, 64), three, threads: 3);
        Assert.Equal(one.Pixels, three.Pixels);
        Assert.NotEqual(picture.Pixels, one.Pixels);
    }

    /// <summary>The bundled pack when it has residual tables, else the bundled pack with plain tables added (any valid table codes correctly).</summary>
    internal static ModelPack ResidualPack(ModelPack pack)
    {
        if (pack.Residual is not null)
        {
            return pack;
        }

        byte[] bytes = File.ReadAllBytes(TestPacks.PackPath!);
        int levels = pack.QualityLevels.Count;
        int[] steps = [245, 449, 816];
        var tables = new byte[levels * steps.Length * 768];
        for (int i = 0; i < tables.Length; i++)
        {
            int k = i % 256;
            tables[i] = (byte)(k < 4 ? 30 : k < 40 ? 20 : k < 200 ? 8 : ResidualTables.NotCoded); // more spread at low frequencies; the highest not coded
        }

        return ModelPack.Load(new MemoryStream(PackEditor.AddEntry(bytes, "residual/tables.bin", tables, m => m["residual"] = new JsonObject
        {
            ["block"] = 16,
            ["constant_bits"] = 13,
            ["steps_q2"] = new JsonArray([.. steps.Select(s => (JsonNode)s)]),
            ["tables"] = "residual/tables.bin",
            ["ladder"] = new JsonArray(new JsonArray(0, -1), new JsonArray(3, 2), new JsonArray(5, 0)),
        })));
    }

    /// <summary>The bundled pack without its residual section and entries.</summary>
    internal static ModelPack PlainPack()
    {
        byte[] plainPack = PackEditor.Rewrite(File.ReadAllBytes(TestPacks.PackPath!), (n, d) => n.StartsWith("residual/", StringComparison.Ordinal) ? null : d);
        plainPack = PackEditor.EditManifest(plainPack, m =>
        {
            m.Remove("residual");
            var files = m["files"]!.AsObject();
            foreach (string name in files.Select(f => f.Key).Where(n => n.StartsWith("residual/", StringComparison.Ordinal)).ToList())
            {
                files.Remove(name);
            }
        });
        return ModelPack.Load(new MemoryStream(plainPack));
    }

    private static DecodedFrame Decode(ModelPack pack, byte[] container, int layers = 0, Action<string>? log = null)
    {
        using var ms = new MemoryStream(container, writable: false);
        return EdgeCodecDecoder.Decode(pack, ms, new DecoderOptions { Backend = "reference", Threads = 2, MaxLayers = layers, Log = log }).Frame;
    }

    [PackFact]
    public void A_residual_layer_improves_the_picture_and_its_prefix_is_the_plain_stream()
    {
        var pack = ResidualPack(fixture.Pack);
        using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, TileSize = 128 });
        int groups = pack.Layout.Groups;
        var plain = encoder.Encode(fixture.Image, 3);
        var full = encoder.Encode(fixture.Image, new QualitySetting(3, 0));
        Assert.Equal(groups + 1, full.Header.LayerCount);
        Assert.Equal(plain.Packets.Select(p => p.Payload.ToArray()), full.Packets.Take(plain.Packets.Count).Select(p => p.Payload.ToArray()));

        var withLayer = Decode(pack, full.ToContainerBytes());
        var without = Decode(pack, plain.ToContainerBytes());
        var prefix = Decode(pack, full.ToContainerBytes(), layers: groups);
        Assert.True(withLayer.IsComplete);
        Assert.All(withLayer.LayersPerTile, n => Assert.Equal(groups + 1, n));
        Assert.Equal(without.Image.Pixels, prefix.Image.Pixels);
        double gain = CodecFixture.Psnr(fixture.Image, withLayer.Image) - CodecFixture.Psnr(fixture.Image, without.Image);
        Assert.True(gain > 0.5, $"the residual layer at step 0 added {gain:F2} dB");

        // A coarser step costs fewer bytes and corrects less.
        var coarse = encoder.Encode(fixture.Image, new QualitySetting(3, 2));
        Assert.True(coarse.Packets.Skip(plain.Packets.Count).Sum(p => p.Payload.Length) < full.Packets.Skip(plain.Packets.Count).Sum(p => p.Payload.Length));
        Assert.True(CodecFixture.Psnr(fixture.Image, Decode(pack, coarse.ToContainerBytes()).Image) < CodecFixture.Psnr(fixture.Image, withLayer.Image));
    }

    [PackFact]
    public void Coefficients_the_tables_do_not_code_cost_nothing_and_decode_as_zero()
    {
        var gaussian = fixture.Pack.GaussianTables;
        byte[] entries = new byte[2 * 768];
        for (int j = 0; j < 768; j++)
        {
            entries[j] = (byte)(j % 3 == 0 ? 10 : ResidualTables.NotCoded); // step 0: a third coded
            entries[768 + j] = ResidualTables.NotCoded;                     // step 1: nothing coded
        }

        var tables = new ResidualTables([100, 200], entries, 1, gaussian.TableCount);
        Assert.Equal(256, tables.Coded(0, 0).Length);
        var random = new Random(5);
        int[] symbols = [.. Enumerable.Range(0, 2 * 768).Select(_ => random.Next(-3, 4))];
        var (step, decoded) = ResidualLayer.Decode(ResidualLayer.Encode(tables, gaussian, 0, 0, symbols), tables, gaussian, 0, 2);
        Assert.Equal(0, step);
        Assert.Equal(symbols.Select((v, i) => i % 768 % 3 == 0 ? v : 0), decoded);

        byte[] empty = ResidualLayer.Encode(tables, gaussian, 0, 1, symbols);
        Assert.True(empty.Length < 8, $"{empty.Length} bytes for a layer that codes nothing");
        Assert.All(ResidualLayer.Decode(empty, tables, gaussian, 0, 2).Symbols, v => Assert.Equal(0, v));
    }

    [PackFact]
    public void Block_classes_code_quiet_blocks_almost_for_free_and_bad_class_streams_are_format_errors()
    {
        var gaussian = fixture.Pack.GaussianTables;
        byte[] entries = new byte[2 * 768];
        for (int j = 0; j < 768; j++)
        {
            entries[j] = ResidualTables.NotCoded;             // class 0: a block of zeros, nothing coded
            entries[768 + j] = (byte)(j < 16 ? 30 : 12);      // class 1: everything, wider at the lowest frequencies
        }

        byte[] weights = [0x50, 0xC3, 0xAF, 0x3C];            // 50000 and 15535: most blocks are quiet
        var classes = new ResidualTables([100], entries, 1, gaussian.TableCount, 2, weights);
        var single = new ResidualTables([100], entries[768..], 1, gaussian.TableCount);
        var random = new Random(7);
        int blocks = 16;
        var symbols = new int[blocks * 768];
        foreach (int b in new[] { 3, 9, 10 })
        {
            for (int j = 0; j < 768; j++)
            {
                symbols[(b * 768) + j] = random.Next(8) == 0 ? random.Next(-4, 5) : 0;
            }
        }

        byte[] payload = ResidualLayer.Encode(classes, gaussian, 0, 0, symbols);
        var (step, decoded) = ResidualLayer.Decode(payload, classes, gaussian, 0, blocks);
        Assert.Equal(0, step);
        Assert.Equal(symbols, decoded); // every nonzero block took the class that codes it: nothing dropped
        byte[] one = ResidualLayer.Encode(single, gaussian, 0, 0, symbols);
        Assert.Equal(symbols, ResidualLayer.Decode(one, single, gaussian, 0, blocks).Symbols);
        Assert.True(payload.Length < one.Length * 0.9, $"{payload.Length} bytes with classes, {one.Length} with one table for all");

        // The class stream's length beyond the payload, a class the pack lacks, a cut coefficient stream.
        byte[] tooLong = [payload[0], 0xFF, 0x7F, .. payload[2..]]; // 16383 bytes
        Assert.Equal(FormatError.Truncated, Assert.Throws<EdgeCodecFormatException>(() => ResidualLayer.Decode(tooLong, classes, gaussian, 0, blocks)).Error);
        byte[] badClasses = RansCodec.Encode([0, 0, 5, 0], [0, 0, 0, 0], classes.ClassTables!);
        byte[] bad = [0, (byte)badClasses.Length, .. badClasses];
        Assert.Equal(FormatError.Malformed, Assert.Throws<EdgeCodecFormatException>(() => ResidualLayer.Decode(bad, classes, gaussian, 0, 4)).Error);
        Assert.Throws<EdgeCodecFormatException>(() => ResidualLayer.Decode(payload[..^3], classes, gaussian, 0, blocks));

        // Tables that do not add up are format errors.
        Assert.Throws<EdgeCodecFormatException>(() => new ResidualTables([100], entries, 1, gaussian.TableCount, 2, weights[..2]));
        Assert.Throws<EdgeCodecFormatException>(() => new ResidualTables([100], entries, 1, gaussian.TableCount, 3, [.. weights, 1, 0]));
        Assert.Throws<EdgeCodecFormatException>(() => new ResidualTables([100], [.. Enumerable.Repeat((byte)0, 17 * 768)], 1, gaussian.TableCount, 17, new byte[34]));
    }

    [PackFact]
    public void Rate_distortion_optimisation_drops_an_expensive_near_tie_and_keeps_what_pays()
    {
        var gaussian = fixture.Pack.GaussianTables;
        byte[] entries = new byte[768];
        Array.Fill(entries, (byte)2); // a narrow table: a ±1 costs many bits, a 0 almost none
        var tables = new ResidualTables([100], entries, 1, gaussian.TableCount);
        var scaled = new double[2 * 768];
        scaled[5] = 0.8;      // rounds to 1 (dead zone 0.25); zero adds 0.64 - 0.04 = 0.6 steps² of error
        scaled[6] = -3.1;     // rounds to -3; -2 adds 1.21 - 0.01 = 1.2 steps²
        scaled[768 + 7] = 1.4; // rounds to 1; zero adds 1.96 - 0.16 = 1.8 steps²
        int[] plain = ResidualTransform.Quantise(scaled);
        int[] optimised = ResidualLayer.Optimise(tables, gaussian, 0, 0, scaled);
        Assert.Equal([1, -3, 1], new[] { plain[5], plain[6], plain[768 + 7] });
        // Each change is one step towards zero, and only where the bits saved outweigh the error added.
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.True(optimised[i] == plain[i] || optimised[i] == plain[i] - Math.Sign(plain[i]), $"value {i}: {plain[i]} -> {optimised[i]}");
        }

        Assert.Equal(0, optimised[5]);
        Assert.Equal(-3, optimised[6]); // -3 and -2 are both rare in this table: the step saves next to no bits
        Assert.True(ResidualLayer.Encode(tables, gaussian, 0, 0, optimised).Length < ResidualLayer.Encode(tables, gaussian, 0, 0, plain).Length);
    }

    [PackTheory]
    [InlineData(1)] // the layer parsed after the synthesis
    [InlineData(2)] // parsed beside the synthesis
    public void A_corrupt_residual_payload_leaves_its_tile_as_synthesised(int threads)
    {
        var pack = ResidualPack(fixture.Pack);
        using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, TileSize = 128 });
        var full = encoder.Encode(fixture.Image, new QualitySetting(2, 1));
        int groups = pack.Layout.Groups, tiles = full.Header.TileCount;
        var prefix = Decode(pack, full.ToContainerBytes(), layers: groups);
        var packets = full.Packets.ToList();
        int victim = (groups * tiles) + 1;
        byte[] damaged = packets[victim].Payload.ToArray();
        damaged[0] = 200; // a step the pack does not have
        packets[victim] = new LatentPacket { StreamId = 0, Sequence = packets[victim].Sequence, FrameIndex = 0, TileIndex = packets[victim].TileIndex, Layer = (byte)groups, ModelId = pack.ModelId, Payload = damaged };

        var log = new List<string>();
        using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = "reference", Threads = threads, Log = m => { lock (log) { log.Add(m); } } });
        decoder.SetHeader(full.Header);
        foreach (var p in packets)
        {
            decoder.SendPacket(p);
        }

        var frame = decoder.DecodeFrame(0);
        Assert.Equal(groups, frame.LayersPerTile[1]);
        Assert.Equal(groups + 1, frame.LayersPerTile[0]);
        Assert.Contains(log, m => m.Contains("tile 1: residual layer is corrupt", StringComparison.Ordinal));
        var grid = new TileGrid(fixture.Image.Width, fixture.Image.Height, 128);
        var clean = Decode(pack, full.ToContainerBytes()); // two threads, every layer intact
        foreach (var (tile, expected) in new[] { (1, prefix), (0, clean) })
        {
            var (x, y, w, h) = grid.PixelRect(tile);
            for (int r = y; r < Math.Min(y + h, fixture.Image.Height); r++)
            {
                int width = Math.Min(w, fixture.Image.Width - x) * 3;
                Assert.Equal(expected.Image.Row(r).Slice(x * 3, width).ToArray(), frame.Image.Row(r).Slice(x * 3, width).ToArray());
            }
        }
    }

    [PackFact]
    public void A_pack_without_residual_tables_rejects_a_residual_stream_and_bad_tables_are_format_errors()
    {
        var pack = ResidualPack(fixture.Pack);
        using var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, TileSize = 128 });
        var full = encoder.Encode(fixture.Image, new QualitySetting(1, 0));
        var plain = PlainPack();
        Assert.Empty(plain.ResidualSteps);
        Assert.Equal(0, plain.ResidualBlockClasses);
        Assert.Equal(pack.Residual!.Classes, pack.ResidualBlockClasses);
        using var plainDecoder = new EdgeCodecDecoder(plain, new DecoderOptions { Backend = "reference" });
        var header = ContainerHeader.Create(plain.ModelId, full.Header.Width, full.Header.Height, 128, 128, full.Header.LayerCount, 1, full.Header.QualityLevel);
        var ex = Assert.Throws<EdgeCodecFormatException>(() => plainDecoder.SetHeader(header));
        Assert.Contains("residual", ex.Message, StringComparison.Ordinal);

        byte[] good = File.ReadAllBytes(TestPacks.PackPath!);
        ModelPack Broken(Action<JsonObject> edit, byte[]? tables = null) => ModelPack.Load(new MemoryStream(PackEditor.AddEntry(good, "residual/tables.bin",
            tables ?? new byte[pack.QualityLevels.Count * 768], m =>
            {
                m["residual"] = new JsonObject { ["block"] = 16, ["constant_bits"] = 13, ["steps_q2"] = new JsonArray(300), ["tables"] = "residual/tables.bin" };
                edit(m["residual"]!.AsObject());
            })));
        Assert.NotNull(Broken(_ => { }).Residual);
        Assert.Throws<EdgeCodecFormatException>(() => Broken(r => r["steps_q2"] = new JsonArray(5000)));
        Assert.Throws<EdgeCodecFormatException>(() => Broken(r => r["steps_q2"] = new JsonArray(300, 400)));
        Assert.Throws<EdgeCodecFormatException>(() => Broken(r => r["block"] = 8));
        Assert.Throws<EdgeCodecFormatException>(() => Broken(r => r["ladder"] = new JsonArray(new JsonArray(0, 1))));
        Assert.Throws<EdgeCodecFormatException>(() => Broken(_ => { }, Enumerable.Repeat((byte)200, pack.QualityLevels.Count * 768).ToArray()));
    }
    [PackFact]
    public void The_ladders_measured_rates_are_read_in_order_and_a_wrong_list_is_rejected()
    {
        byte[] good = File.ReadAllBytes(TestPacks.PackPath!);
        var pack = fixture.Pack;
        Assert.NotNull(pack.Residual); // the bundled pack has a ladder
        int n = pack.QualityLadder.Count;
        ModelPack With(Func<int, JsonNode?> rate, int count = -1) => ModelPack.Load(new MemoryStream(PackEditor.EditManifest(good, m => m["residual"]!["ladder_bpp"] = new JsonArray([.. Enumerable.Range(0, count < 0 ? n : count).Select(rate)]))));

        var read = With(i => 0.05 * (i + 1));
        Assert.Equal(Enumerable.Range(0, n).Select(i => 0.05 * (i + 1)), read.QualityLadderBitsPerPixel);
        Assert.Equal(pack.QualityLadder, read.QualityLadder);
        Assert.Equal(n, With(_ => 0.3).QualityLadderBitsPerPixel.Count); // equal neighbours: settings of the same rate
        Assert.Throws<EdgeCodecFormatException>(() => With(i => 0.05 * (i + 1), n - 1)); // one rate short
        Assert.Throws<EdgeCodecFormatException>(() => With(i => 0.05 * (n - i))); // decreasing
        Assert.Throws<EdgeCodecFormatException>(() => With(i => i == 0 ? 0.0 : 0.05 * i)); // zero
        Assert.Throws<EdgeCodecFormatException>(() => With(i => i == n - 1 ? 1e6 : 0.05 * (i + 1))); // beyond any codec
        Assert.Throws<EdgeCodecFormatException>(() => With(i => i == 1 ? JsonValue.Create("0.1") : JsonValue.Create(0.05 * (i + 1)))); // not a number
        var noLadder = PackEditor.EditManifest(good, m =>
        {
            m["residual"]!.AsObject().Remove("ladder");
            m["residual"]!["ladder_bpp"] = new JsonArray(0.1);
        });
        Assert.Throws<EdgeCodecFormatException>(() => ModelPack.Load(new MemoryStream(noLadder)));
    }
    [PackFact]
    public void The_encoder_measures_its_picture_with_a_backend_chosen_by_priority_or_by_name_never_by_timing()
    {
        using var byPriority = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 128 });
        string expected = EdgeCodec.Backends.DecoderBackends.All.First(b => b.IsAvailable(fixture.Pack, out _)).Name;
        Assert.Equal(expected, byPriority.SynthesisBackend);
        using var byName = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 2, TileSize = 128, Backend = "reference" });
        Assert.Equal("reference", byName.SynthesisBackend);
        var setting = new QualitySetting(2, fixture.Pack.ResidualSteps.Count - 1);
        byte[] first = byName.Encode(fixture.Image, setting).ToContainerBytes();
        using var again = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Threads = 1, TileSize = 128, Backend = "reference" });
        Assert.Equal(first, again.Encode(fixture.Image, setting).ToContainerBytes()); // same backend, same bytes, any thread count
        using var unknown = new EdgeCodecEncoder(fixture.Pack, new EncoderOptions { Backend = "no-such-backend" });
        Assert.Throws<ArgumentException>(() => unknown.Encode(fixture.Image, setting));
    }
}
