using EdgeCodec.Codec;
using EdgeCodec.Format;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>
/// Decodes containers under a thermal budget: before each frame it reads the sensors, asks the governor for a
/// budget, and decodes with that many threads and refinement layers (a new decoder only when the thread count
/// changes). Coarser but steady pictures instead of a throttled SoC.
/// </summary>
public sealed class ThermalAwareDecoder : IDisposable
{
    private readonly ModelPack _pack;
    private readonly ThermalSensor _sensor;
    private readonly ThermalGovernor _governor;
    private readonly string _backend;
    private EdgeCodecDecoder? _decoder;
    private int _decoderThreads;

    /// <summary>Creates the decoder.</summary>
    /// <param name="pack">The model pack.</param>
    /// <param name="sensor">Thermal sensor (a fake sysfs root in tests).</param>
    /// <param name="governor">The policy.</param>
    /// <param name="backend">Decoder backend name (default <c>auto</c>).</param>
    public ThermalAwareDecoder(ModelPack pack, ThermalSensor sensor, ThermalGovernor governor, string backend = DecoderBackends.Auto)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(sensor);
        ArgumentNullException.ThrowIfNull(governor);
        _pack = pack;
        _sensor = sensor;
        _governor = governor;
        _backend = backend;
    }

    /// <summary>The budget used for the last frame.</summary>
    public DecodeBudget LastBudget { get; private set; }

    /// <summary>The thermal reading taken before the last frame.</summary>
    public ThermalSnapshot? LastReading { get; private set; }

    /// <summary>
    /// Decodes the first frame of a container (complete or truncated) within the current budget: at the governor's
    /// full level every layer that arrived (a residual layer too); below it <see cref="DecodeBudget.MaxLayers"/>
    /// latent layers, the base and its refinements (a stream with a <see cref="ContainerHeader.PreviewLayer"/> decodes
    /// one more).
    /// </summary>
    /// <param name="container">A readable stream at the container's start.</param>
    /// <exception cref="EdgeCodecFormatException">The container header is unreadable or names another model.</exception>
    public DecodedFrame Decode(Stream container)
    {
        var read = ContainerReader.Read(container);
        LastReading = _sensor.Read();
        LastBudget = _governor.Update(LastReading);
        if (_decoder is null || _decoderThreads != LastBudget.Threads)
        {
            _decoder?.Dispose();
            _decoder = new EdgeCodecDecoder(_pack, new DecoderOptions { Backend = _backend, Threads = LastBudget.Threads });
            _decoderThreads = LastBudget.Threads;
        }

        _decoder.SetHeader(read.Header);
        foreach (var packet in read.Packets)
        {
            _decoder.SendPacket(packet);
        }

        // At the full level every layer the stream has, its residual layer too (the budget counts latent groups, and
        // until session 47 a cool board dropped the residual layer). Below it the budget counts the base and its
        // refinements; a stream's preview layer (z alone) comes on top, so the minimal level still decodes the base
        // layer, not the preview's blurred picture.
        int layers = _governor.Level == 0 ? 0 : LastBudget.MaxLayers + (read.Header.PreviewLayer ? 1 : 0);
        return _decoder.DecodeFrame(read.Packets.Count > 0 ? read.Packets[0].FrameIndex : 0, layers);
    }

    /// <inheritdoc/>
    public void Dispose() => _decoder?.Dispose();
}
