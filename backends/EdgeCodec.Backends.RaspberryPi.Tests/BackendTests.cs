using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.RaspberryPi.Tests;

public sealed class BackendTests
{
    private static readonly Lazy<ModelPack> s_pack = new(ModelPack.LoadDefault);

    [Fact]
    public void Only_a_raspberry_pi_on_arm64_linux_qualifies()
    {
        string model = Path.GetTempFileName();
        try
        {
            File.WriteAllText(model, "Raspberry Pi 5 Model B Rev 1.0\0");
            Assert.True(new RaspberryPiBackend(model, () => true).IsAvailable(s_pack.Value, out _));
            Assert.Equal("Raspberry Pi 5 Model B Rev 1.0", new RaspberryPiBackend(model, () => true).BoardModel);
            Assert.False(new RaspberryPiBackend(model, () => false).IsAvailable(s_pack.Value, out string notArm));
            Assert.Contains("not linux-arm64", notArm, StringComparison.Ordinal);
            File.WriteAllText(model, "Generic ARM board");
            Assert.False(new RaspberryPiBackend(model, () => true).IsAvailable(s_pack.Value, out string notPi));
            Assert.Contains("not a Raspberry Pi", notPi, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(model);
        }
    }

    [Fact]
    public void The_pi_decodes_on_the_simd_engine_whether_or_not_cpu_was_registered()
    {
        // Before, a Pi whose app registered only `rpi` (as PiPlayer did) ran the scalar integer reference.
        var pack = s_pack.Value;
        Assert.Equal("cpu", RaspberryPiBackend.Engine(pack).Name);
        RaspberryPiBackend.Register();
        var cpu = Assert.Single(DecoderBackends.All, b => b.Name == "cpu");
        Assert.Same(cpu, RaspberryPiBackend.Engine(pack));
        Assert.Contains(DecoderBackends.All, b => b.Name == "rpi");
        RaspberryPiBackend.Register(); // again: still one cpu backend, the one registered first
        Assert.Same(cpu, Assert.Single(DecoderBackends.All, b => b.Name == "cpu"));
    }

    [Fact]
    public void A_hot_board_decodes_fewer_layers_and_recovers_when_cool()
    {
        var pack = s_pack.Value;
        var image = ImageFile.Load(Path.Combine(Root(), "samples", "media", "coffee.png"));
        byte[] container;
        using (var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2 }))
        {
            container = encoder.Encode(CropTo(image, 192, 128), 2).ToContainerBytes();
        }

        using var sys = new FakeSysfs().Zone(0, "cpu-thermal", 50).Throttled("0x0");
        var governor = new ThermalGovernor(cores: 2, layers: 4) { CoolDownReadings = 1 };
        using var decoder = new ThermalAwareDecoder(pack, new ThermalSensor(sys.Root), governor, "reference");

        Assert.All(Decode(decoder, container).LayersPerTile, l => Assert.Equal(4, l));
        sys.Zone(0, "cpu-thermal", 79);
        var hot = Decode(decoder, container);
        Assert.Equal(new DecodeBudget(1, 1), decoder.LastBudget);
        Assert.All(hot.LayersPerTile, l => Assert.Equal(1, l));
        sys.Zone(0, "cpu-thermal", 60);
        Decode(decoder, container);
        Assert.Equal(new DecodeBudget(1, 3), decoder.LastBudget);   // one step up per cool reading
        Assert.All(Decode(decoder, container).LayersPerTile, l => Assert.Equal(4, l));
    }

    [Fact]
    public void A_stream_with_a_preview_layer_still_decodes_its_base_layer_on_a_hot_board()
    {
        var pack = s_pack.Value;
        var image = CropTo(ImageFile.Load(Path.Combine(Root(), "samples", "media", "coffee.png")), 192, 128);
        byte[] plain, preview;
        using (var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2 }))
        using (var previewEncoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2, PreviewLayer = true }))
        {
            plain = encoder.Encode(image, 2).ToContainerBytes();
            preview = previewEncoder.Encode(image, 2).ToContainerBytes();
        }

        using var sys = new FakeSysfs().Zone(0, "cpu-thermal", 79).Throttled("0x0");
        var governor = new ThermalGovernor(cores: 2, layers: 4);
        using var decoder = new ThermalAwareDecoder(pack, new ThermalSensor(sys.Root), governor, "reference");
        var hot = Decode(decoder, preview);
        Assert.Equal(new DecodeBudget(1, 1), decoder.LastBudget);
        Assert.All(hot.LayersPerTile, l => Assert.Equal(2, l)); // the preview layer and the base
        Assert.Equal(Decode(decoder, plain).Image.Pixels, hot.Image.Pixels);
    }

    [Fact]
    public void A_cool_board_decodes_the_residual_layer_too()
    {
        var pack = s_pack.Value;
        var image = CropTo(ImageFile.Load(Path.Combine(Root(), "samples", "media", "coffee.png")), 192, 128);
        byte[] container;
        using (var encoder = new EdgeCodecEncoder(pack, new EncoderOptions { Threads = 2 }))
        {
            container = encoder.Encode(image, new QualitySetting(2, pack.ResidualSteps.Count / 2)).ToContainerBytes();
        }

        int groups = pack.Layout.Groups;
        using var sys = new FakeSysfs().Zone(0, "cpu-thermal", 50).Throttled("0x0");
        var governor = new ThermalGovernor(cores: 2, layers: groups) { CoolDownReadings = 1 }; // as PiPlayer makes it
        using var decoder = new ThermalAwareDecoder(pack, new ThermalSensor(sys.Root), governor, "reference");
        var cool = Decode(decoder, container);
        Assert.All(cool.LayersPerTile, l => Assert.Equal(groups + 1, l)); // every group and the residual layer
        using (var ms = new MemoryStream(container, writable: false))
        {
            Assert.Equal(EdgeCodecDecoder.Decode(pack, ms, new DecoderOptions { Backend = "reference" }).Frame.Image.Pixels, cool.Image.Pixels);
        }

        sys.Zone(0, "cpu-thermal", 72);
        Assert.All(Decode(decoder, container).LayersPerTile, l => Assert.Equal(groups - 1, l)); // reduced: one group fewer, no residual
    }

    private static DecodedFrame Decode(ThermalAwareDecoder decoder, byte[] container)
    {
        using var ms = new MemoryStream(container, writable: false);
        return decoder.Decode(ms);
    }

    private static RgbImage CropTo(RgbImage src, int w, int h)
    {
        var dst = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
        {
            src.Row(y).Slice(0, w * 3).CopyTo(dst.Row(y));
        }

        return dst;
    }

    private static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "EdgeCodec.sln")))
            {
                return d.FullName;
            }
        }

        throw new DirectoryNotFoundException("EdgeCodec.sln");
    }
}
