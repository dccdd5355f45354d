using System.Runtime.InteropServices;
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.RaspberryPi;

/// <summary>
/// Decoder backend <c>rpi</c>: on a Raspberry Pi (linux-arm64; ONNX Runtime has no 32-bit Arm build) the
/// synthesis runs on the CPU SIMD engine (<c>cpu</c>: AdvSimd with dot product on a Pi 5, without on a Pi 4): the
/// registered <c>cpu</c> backend (with its options), else one with the environment's options. Thermal-aware decoding
/// is <see cref="ThermalAwareDecoder"/>'s job; this class only says whether the board is a Pi.
/// </summary>
public sealed class RaspberryPiBackend : DecoderBackend
{
    private static readonly Lazy<CpuBackend> s_cpu = new(() => new CpuBackend(CpuBackendOptions.FromEnvironment()));
    private readonly string _deviceTreeModel;
    private readonly Func<bool> _isArm64Linux;

    /// <summary>Creates the backend.</summary>
    /// <param name="deviceTreeModel">Where the board model string is read (default <c>/proc/device-tree/model</c>).</param>
    public RaspberryPiBackend(string deviceTreeModel = "/proc/device-tree/model")
        : this(deviceTreeModel, () => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
    {
    }

    internal RaspberryPiBackend(string deviceTreeModel, Func<bool> isArm64Linux)
    {
        _deviceTreeModel = deviceTreeModel;
        _isArm64Linux = isArm64Linux;
    }

    /// <inheritdoc/>
    public override string Name => "rpi";

    /// <inheritdoc/>
    public override int Priority => 35;

    /// <summary>
    /// Registers <c>rpi</c> with <see cref="DecoderBackends"/>, and <c>cpu</c> too unless a <c>cpu</c> backend is
    /// registered already (<see cref="CpuBackend.Register"/>: it also moves the hyper decoder's and context models'
    /// convs onto the SIMD kernels, a fifth of a decode's time).
    /// </summary>
    /// <exception cref="ArgumentException"><c>EDGECODEC_CPU_MAX_ISA</c> names no <see cref="CpuIsa"/>.</exception>
    public static void Register()
    {
        if (!DecoderBackends.All.Any(b => b.Name == CpuBackend.BackendName))
        {
            CpuBackend.Register();
        }

        DecoderBackends.Register(new RaspberryPiBackend());
    }

    /// <summary>The board model string (e.g. "Raspberry Pi 5 Model B Rev 1.0"), or null when not readable.</summary>
    public string? BoardModel
    {
        get
        {
            try
            {
                return File.Exists(_deviceTreeModel) ? File.ReadAllText(_deviceTreeModel).TrimEnd('\0', '\n', ' ') : null;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    /// <inheritdoc/>
    public override bool IsAvailable(ModelPack pack, out string reason)
    {
        if (!_isArm64Linux())
        {
            reason = $"not linux-arm64 ({RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture})";
            return false;
        }

        string? model = BoardModel;
        if (model is null || !model.Contains("Raspberry Pi", StringComparison.Ordinal))
        {
            reason = $"not a Raspberry Pi (device tree model: {model ?? "unreadable"})";
            return false;
        }

        reason = string.Empty;
        return true;
    }

    /// <inheritdoc/>
    public override ISynthesisBackend Create(ModelPack pack, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (!IsAvailable(pack, out var reason))
        {
            throw new NotSupportedException($"Backend 'rpi' is not available: {reason}");
        }

        return Engine(pack).Create(pack, options);
    }

    /// <summary>
    /// The engine doing the work: the registered <c>cpu</c> backend, else one made here with
    /// <see cref="CpuBackendOptions.FromEnvironment"/>; the <c>reference</c> only if <c>cpu</c> declines the pack.
    /// </summary>
    internal static DecoderBackend Engine(ModelPack pack)
    {
        var cpu = DecoderBackends.All.FirstOrDefault(b => b.Name == CpuBackend.BackendName) ?? s_cpu.Value;
        return cpu.IsAvailable(pack, out _) ? cpu : DecoderBackends.Get("reference");
    }
}
