using System.Buffers.Binary;
using System.IO.Hashing;
using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Codec;

public sealed class RefinedLatentsTests(CodecFixture fixture) : IClassFixture<CodecFixture>
{
    private static void Reseal(byte[] data) =>
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32.HashToUInt32(data.AsSpan(0, data.Length - 4)));

    /// <summary>The one-pass encoder's own latents for the fixture image at <paramref name="quality"/>, as a refined-latents file.</summary>
    private byte[] AmortisedLatentsFile(int quality, int? residualStep = null)
    {
        var pack = fixture.Pack;
        var grid = new TileGrid(fixture.Image.Width, fixture.Image.Height, 128);
        using var analysis = new OnnxAnalysis(pack, 2);
        float[] y = analysis.Analyze(EdgeCodecEncoder.ToPaddedPlanar(fixture.Image, grid.PaddedWidth, grid.PaddedHeight), grid.PaddedHeight, grid.PaddedWidth);
        int plane = grid.LatentWidth * grid.LatentHeight;
        var gain = pack.QualityLevels[quality].Gain.Span;
        for (int i = 0; i < y.Length; i++)
        {
            y[i] *= gain[i / plane];
        }

        float[] z = analysis.HyperAnalyze(y, grid.LatentHeight, grid.LatentWidth);
        var layout = pack.Layout;
        return RefinedLatents.Serialize(pack.ModelId, quality, fixture.Image.Width, fixture.Image.Height,
            [layout.LatentChannels, grid.LatentHeight, grid.LatentWidth, layout.HyperChannels, grid.HyperHeight, grid.HyperWidth],
            y, Array.ConvertAll(z, v => (int)MathF.Round(v, MidpointRounding.ToEven)), iterations: 7, residualStep);
    }

    [PackFact]
    public void The_one_pass_latents_given_as_a_file_encode_to_the_identical_container()
    {
        // The studio path shares quantisation, the integer entropy path, rANS and packetisation with the one-pass encoder:
        // fed the analysis output it must reproduce the one-pass container byte for byte.
        var latents = RefinedLatents.Read(AmortisedLatentsFile(3), fixture.Pack);
        Assert.Equal(3, latents.Quality);
        Assert.Equal(7, latents.Iterations);
        byte[] studio = fixture.Encoder.Encode(fixture.Image, latents).ToContainerBytes();
        Assert.Equal(fixture.Encoded(3).ToContainerBytes(), studio);

        var twoLayers = fixture.Encoder.Encode(fixture.Image, latents, layers: 2);
        Assert.Equal(2, twoLayers.Header.LayerCount);
    }

    [PackFact]
    public void Refined_latents_take_a_residual_layer_as_the_one_pass_latents_do()
    {
        // The studio ladder: the same latents with a residual setting write what the one-pass encoder writes for that
        // setting, byte for byte; a setting of another level is refused; a latent-only prefix is the plain stream.
        Assert.NotNull(fixture.Pack.Residual); // the bundled pack has residual tables
        int step = fixture.Pack.ResidualSteps.Count / 2;
        var latents = RefinedLatents.Read(AmortisedLatentsFile(3), fixture.Pack);
        var setting = new EdgeCodec.Models.QualitySetting(3, step);
        var studio = fixture.Encoder.Encode(fixture.Image, latents, setting);
        Assert.Equal(fixture.Pack.Layout.Groups + 1, studio.Header.LayerCount);
        Assert.Equal(fixture.Encoder.Encode(fixture.Image, setting).ToContainerBytes(), studio.ToContainerBytes());
        Assert.Equal(fixture.Encoded(3).ToContainerBytes(), fixture.Encoder.Encode(fixture.Image, latents, new EdgeCodec.Models.QualitySetting(3, null)).ToContainerBytes());
        Assert.Equal(2, fixture.Encoder.Encode(fixture.Image, latents, setting, layers: 2).Header.LayerCount);
        Assert.Throws<ArgumentException>(() => fixture.Encoder.Encode(fixture.Image, latents, new EdgeCodec.Models.QualitySetting(2, step)));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Encoder.Encode(fixture.Image, latents, new EdgeCodec.Models.QualitySetting(3, fixture.Pack.ResidualSteps.Count)));
    }

    [PackFact]
    public void Latents_refined_with_the_layer_in_the_loop_encode_at_their_rung_and_only_there()
    {
        // training.refine --ladder writes the rung's step into the file: encoding without a setting takes it, another
        // step is refused, a prefix of the latent layers is still allowed.
        int step = fixture.Pack.ResidualSteps.Count - 2;
        var latents = RefinedLatents.Read(AmortisedLatentsFile(3, step), fixture.Pack);
        Assert.Equal(step, latents.ResidualStep);
        Assert.Equal(new EdgeCodec.Models.QualitySetting(3, step), latents.Setting);
        var rung = new EdgeCodec.Models.QualitySetting(3, step);
        byte[] expected = fixture.Encoder.Encode(fixture.Image, rung).ToContainerBytes();
        Assert.Equal(expected, fixture.Encoder.Encode(fixture.Image, latents).ToContainerBytes());
        Assert.Equal(expected, fixture.Encoder.Encode(fixture.Image, latents, rung).ToContainerBytes());
        var e = Assert.Throws<ArgumentException>(() => fixture.Encoder.Encode(fixture.Image, latents, new EdgeCodec.Models.QualitySetting(3, step - 1)));
        Assert.Contains($"3+r{step}", e.Message);
        Assert.Throws<ArgumentException>(() => fixture.Encoder.Encode(fixture.Image, latents, new EdgeCodec.Models.QualitySetting(3, null)));
        Assert.Equal(fixture.Encoded(3).ToContainerBytes(), fixture.Encoder.Encode(fixture.Image, latents, layers: fixture.Pack.Layout.Groups).ToContainerBytes());
    }

    [PackFact]
    public void Version_1_files_still_read_as_latents_of_the_level_alone()
    {
        byte[] v2 = AmortisedLatentsFile(2);
        byte[] v1 = [.. v2.AsSpan(0, 40), .. v2.AsSpan(RefinedLatents.HeaderSize)];
        BinaryPrimitives.WriteUInt16LittleEndian(v1.AsSpan(4), 1);
        Reseal(v1);
        var a = RefinedLatents.Read(v1, fixture.Pack);
        Assert.Null(a.ResidualStep);
        Assert.Equal(RefinedLatents.Read(v2, fixture.Pack).Y, a.Y);
        Assert.Equal(fixture.Encoded(2).ToContainerBytes(), fixture.Encoder.Encode(fixture.Image, a).ToContainerBytes());
    }

    [PackFact]
    public void Changed_latents_change_the_stream_and_still_decode()
    {
        byte[] file = AmortisedLatentsFile(1);
        int n = (file.Length - RefinedLatents.HeaderSize - 4) / 4;
        // Zero the first latent channel: a different (worse) choice of latents is still a valid stream.
        var latents = RefinedLatents.Read(file, fixture.Pack);
        int plane = latents.Y.Length / fixture.Pack.Layout.LatentChannels;
        for (int i = 0; i < plane; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(RefinedLatents.HeaderSize + (4 * i)), 0f);
        }

        Reseal(file);
        byte[] container = fixture.Encoder.Encode(fixture.Image, RefinedLatents.Read(file, fixture.Pack)).ToContainerBytes();
        Assert.NotEqual(fixture.Encoded(1).ToContainerBytes(), container);
        using var ms = new MemoryStream(container, writable: false);
        var frame = EdgeCodecDecoder.Decode(fixture.Pack, ms, new DecoderOptions { Backend = "reference" }).Frame;
        Assert.True(frame.IsComplete);
        Assert.True(n > plane);
        Assert.InRange(CodecFixture.Psnr(fixture.Image, frame.Image), 10, 60);
    }

    [PackFact]
    public void Latents_of_another_image_size_are_refused_by_the_encoder()
    {
        var latents = RefinedLatents.Read(AmortisedLatentsFile(0), fixture.Pack);
        var other = CodecFixture.Crop(fixture.Image, 0, 0, fixture.Image.Width - 8, fixture.Image.Height);
        Assert.Throws<ArgumentException>(() => fixture.Encoder.Encode(other, latents));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Encoder.Encode(fixture.Image, latents, layers: fixture.Pack.Layout.Groups + 1));
    }

    public static TheoryData<string, FormatError> Corruptions => new()
    {
        { "magic", FormatError.Malformed },
        { "version", FormatError.UnsupportedVersion },
        { "crc", FormatError.CrcMismatch },
        { "truncated", FormatError.Truncated },
        { "trailing", FormatError.TrailingData },
        { "model", FormatError.Malformed },
        { "quality", FormatError.Malformed },
        { "shape", FormatError.Malformed },
        { "size", FormatError.LimitExceeded },
        { "nan", FormatError.Malformed },
        { "huge-z", FormatError.Malformed },
        { "empty", FormatError.Malformed },
        { "step", FormatError.Malformed },
        { "reserved", FormatError.Malformed },
        { "short-header", FormatError.Truncated },
    };

    [PackTheory]
    [MemberData(nameof(Corruptions))]
    public void Bad_files_get_a_typed_error(string corruption, FormatError expected)
    {
        byte[] good = AmortisedLatentsFile(2);
        byte[] bad = corruption switch
        {
            "truncated" => good[..^9],
            "trailing" => [.. good, 0, 0, 0, 0],
            "empty" => [],
            "short-header" => good[..46],
            _ => (byte[])good.Clone(),
        };
        int zStart = good.Length - 4 - (4 * fixture.Pack.Layout.HyperChannels * ((fixture.Image.Width + 63) / 64) * ((fixture.Image.Height + 63) / 64));
        switch (corruption)
        {
            case "magic": bad[0] = (byte)'X'; break;
            case "version": bad[4] = 3; Reseal(bad); break;
            case "step": BinaryPrimitives.WriteUInt16LittleEndian(bad.AsSpan(40), (ushort)fixture.Pack.ResidualSteps.Count); Reseal(bad); break;
            case "reserved": bad[42] = 1; Reseal(bad); break;
            case "crc": bad[RefinedLatents.HeaderSize + 100] ^= 0x40; break;
            case "model": bad[8] ^= 1; Reseal(bad); break;
            case "quality": bad[6] = 200; Reseal(bad); break;
            case "shape": bad[26] += 1; Reseal(bad); break;
            case "size": BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(16), RgbImage.MaxDimension + 1); Reseal(bad); break;
            case "nan": BinaryPrimitives.WriteSingleLittleEndian(bad.AsSpan(RefinedLatents.HeaderSize + 8), float.NaN); Reseal(bad); break;
            case "huge-z": BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(zStart), int.MinValue); Reseal(bad); break;
        }

        var e = Assert.Throws<EdgeCodecFormatException>(() => RefinedLatents.Read(bad, fixture.Pack));
        Assert.Equal(expected, e.Error);
    }
}
