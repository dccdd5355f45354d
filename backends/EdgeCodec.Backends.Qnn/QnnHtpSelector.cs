using Microsoft.ML.OnnxRuntime;

namespace EdgeCodec.Backends.Qnn;

/// <summary>Registers the QNN EP plug-in library by path and selects its HTP (NPU) device.</summary>
internal sealed class QnnHtpSelector(QnnOptions options) : IEpDeviceSelector
{
    internal const string RegistrationName = "EdgeCodecQnn";
    internal const string EpName = "QNNExecutionProvider";
    private static readonly Lock s_gate = new();
    private static string? s_registeredPath;
    private OrtEpDevice? _device;

    public bool RunsOnCpu => false;

    public bool SupportsContextCache => true;

    public (string DriverVersion, string Soc) Identity
    {
        get
        {
            var metadata = _device?.EpMetadata.Entries ?? new Dictionary<string, string>();
            string version = options.DriverVersion ?? (metadata.TryGetValue("version", out var v) ? v : "unknown");
            string soc = options.SocModel ?? options.HtpArch?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto";
            return (version, soc);
        }
    }

    public bool TryProbe(out string reason)
    {
        if (!File.Exists(options.ProviderLibraryPath))
        {
            reason = $"the QNN EP library {options.ProviderLibraryPath} is missing (ship libonnxruntime_providers_qnn.so and the QNN SDK's libQnnHtp*.so with the app)";
            return false;
        }

        try
        {
            var env = OrtEnv.Instance();
            lock (s_gate)
            {
                if (s_registeredPath != options.ProviderLibraryPath)
                {
                    if (s_registeredPath is not null)
                    {
                        env.UnregisterExecutionProviderLibrary(RegistrationName);
                    }

                    env.RegisterExecutionProviderLibrary(RegistrationName, options.ProviderLibraryPath);
                    s_registeredPath = options.ProviderLibraryPath;
                }
            }

            _device = env.GetEpDevices().FirstOrDefault(d => d.EpName == EpName && d.HardwareDevice.Type == OrtHardwareDeviceType.NPU);
            if (_device is null)
            {
                reason = "the QNN EP loaded but reports no HTP (NPU) device";
                return false;
            }

            reason = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            reason = $"ONNX Runtime could not load the QNN EP from {options.ProviderLibraryPath}: {ex.GetBaseException().Message}";
            return false;
        }
    }

    public void Append(SessionOptions sessionOptions)
    {
        var device = _device ?? throw new InvalidOperationException("TryProbe must succeed first.");
        sessionOptions.AppendExecutionProvider(OrtEnv.Instance(), [device], QnnProviderOptions.ProviderOptions(options));
    }
}
