using System.CommandLine;
using EdgeCodec.Backends.Qnn;
using EdgeCodec.Backends.RaspberryPi;
using EdgeCodec.Cli.Commands;

EdgeCodec.Backends.Cpu.CpuBackend.Register();

// Backend plug-ins register themselves; `auto` then picks the best one that is available here.
QnnBackend.Register(new QnnOptions
{
    ProviderLibraryPath = Environment.GetEnvironmentVariable("EDGECODEC_QNN_EP") ?? new QnnOptions().ProviderLibraryPath,
});
RaspberryPiBackend.Register();

var root = new RootCommand("EdgeCodec: learned image compression for edge devices (encode, decode, inspect, evaluate, benchmark).")
{
    EncodeCommand.Create(),
    DecodeCommand.Create(),
    InfoCommand.Create(),
    TrimCommand.Create(),
    EvalCommand.Create(),
    BdCommand.Create(),
    BenchCommand.Create(),
    ModelCommand.Create(),
    AdapterCommands.Keys(),
    AdapterCommands.Adapters(),
};
return root.Parse(args).Invoke();
