using System.Diagnostics;

namespace EdgeCodec.Backends.Cpu.Tests;

/// <summary>
/// ImageSharp FeatureTestRunner style: reruns the exact comparisons of the check tool in child processes with
/// hardware intrinsics disabled, so every x64 dispatch path (and the automatic selection) runs on one machine.
/// </summary>
public sealed class ChildProcessTests
{
    /// <remarks>
    /// .NET 10 groups the AVX-512 knobs: <c>DOTNET_EnableAVX512F=0</c> is no longer honoured, <c>DOTNET_EnableAVX512=0</c>
    /// is (measured on this machine), so both the VNNI tier's prerequisites are switched off one at a time (without AVX-VNNI an AVX-512 machine
    /// runs <see cref="CpuIsa.Avx512Bw"/>).
    /// </remarks>
    public static TheoryData<string, string> Environments() => new()
    {
        { "", CpuBackend.SupportedIsas[0].ToString() },
        { "DOTNET_EnableAVX512=0", CpuBackend.SupportedIsas.Contains(CpuIsa.Avx2) ? "Avx2" : "Scalar" },
        { "DOTNET_EnableAVXVNNI=0", CpuBackend.SupportedIsas.First(i => i != CpuIsa.Avx512Vnni).ToString() },
        { "EDGECODEC_CPU_MAX_ISA=Avx512Bw", CpuBackend.SelectIsa(CpuIsa.Avx512Bw).ToString() },
        { "DOTNET_EnableAVX2=0", "Scalar" },
        { "DOTNET_EnableHWIntrinsic=0", "Scalar" },
        { "EDGECODEC_CPU_MAX_ISA=Avx2", CpuBackend.SelectIsa(CpuIsa.Avx2).ToString() },
        { "EDGECODEC_CPU_MAX_ISA=Scalar", "Scalar" },
    };

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task Check_tool_passes_in_a_child_process(string environment, string expectedIsa)
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            return;
        }

        string check = Path.Combine(AppContext.BaseDirectory, "EdgeCodec.Backends.Cpu.Check.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "exec", "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, "EdgeCodec.Backends.Cpu.Tests.runtimeconfig.json"), check, "compare", "--cases", "40", "--expect-isa", expectedIsa })
        {
            start.ArgumentList.Add(arg);
        }

        if (environment.Length > 0)
        {
            string[] kv = environment.Split('=');
            start.Environment[kv[0]] = kv[1];
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Task<string> stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"[{environment}] exit {process.ExitCode}\n{output}\n{await stderr}");
        Assert.Contains($"active={expectedIsa}", output, StringComparison.Ordinal);
        Assert.Contains("OK in", output, StringComparison.Ordinal);

        // Switched-off intrinsics narrow what the process can run below what the CPU offers, and the tool says so; a cap
        // through EDGECODEC_CPU_MAX_ISA is a choice, not a shortfall.
        bool narrowed = (environment.StartsWith("DOTNET_", StringComparison.Ordinal) || CpuBackend.IsaShortfall is not null) // the child inherits this process's environment
            && expectedIsa != CpuBackend.HardwareIsa.ToString();
        Assert.Equal(narrowed, output.Contains($"note: The CPU offers the {CpuBackend.HardwareIsa} path", StringComparison.Ordinal));
    }
}
