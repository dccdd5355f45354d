using System.CommandLine;
using EdgeCodec.Cli.Commands;

EdgeCodec.Backends.Cpu.CpuBackend.Register();

var root = new RootCommand("EdgeCodec: learned image compression for edge devices (encode, decode, inspect, evaluate, benchmark).")
{
    EncodeCommand.Create(),
    DecodeCommand.Create(),
    InfoCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    ModelCommand.Create(),
};
return root.Parse(args).Invoke();
