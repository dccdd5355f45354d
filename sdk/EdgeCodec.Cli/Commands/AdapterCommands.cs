using System.CommandLine;
using EdgeCodec.Adapters;
using Spectre.Console;

namespace EdgeCodec.Cli.Commands;

/// <summary><c>edgecodec keys new</c> and <c>edgecodec adapters pack|sign|verify|install|list|remove</c>.</summary>
internal static class AdapterCommands
{
    public static Command Keys()
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for NAME.key.pem (secret) and NAME.pub.pem (for devices)", Required = true };
        var name = new Option<string>("--name") { Description = "Key name", DefaultValueFactory = _ => "publisher" };
        var create = new Command("new", "Create an ECDSA P-256 publisher key pair") { outDir, name };
        create.SetAction(r => CliRunner.Run(() =>
        {
            var dir = r.GetRequiredValue(outDir);
            dir.Create();
            var (priv, pub) = AdapterKeys.Create();
            string keyPath = Path.Combine(dir.FullName, r.GetRequiredValue(name) + ".key.pem");
            if (File.Exists(keyPath))
            {
                return CliRunner.Error(CliRunner.Usage, $"{keyPath} exists; refusing to overwrite a key");
            }

            File.WriteAllText(keyPath, priv);
            File.WriteAllText(Path.Combine(dir.FullName, r.GetRequiredValue(name) + ".pub.pem"), pub);
            using var key = AdapterKeys.Import(pub);
            Console.WriteLine($"key id {AdapterKeys.KeyId(key)}: {keyPath} (keep secret), {r.GetRequiredValue(name)}.pub.pem (give to devices)");
            return CliRunner.Ok;
        }));
        return new Command("keys", "Publisher keys for adapter signing") { create };
    }

    public static Command Adapters()
    {
        var command = new Command("adapters", "Domain adapter packages: build, sign, verify, and manage a device store");

        var manifest = new Option<FileInfo>("--manifest") { Description = "manifest.json from the training export", Required = true };
        var weights = new Option<FileInfo>("--weights") { Description = "weights.bin from the training export", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Package to write (.ecadapter), or a folder for <id>-<version>.ecadapter", Required = true };
        var onnxGraph = new Option<FileInfo?>("--onnx-patch") { Description = "Optional synthesis.qdq.patch from the training export (the adapter for ONNX Runtime / QNN backends)" };
        var pack = new Command("pack", "Build an unsigned package") { manifest, weights, output, onnxGraph };
        pack.SetAction(r => CliRunner.Run(() =>
        {
            var p = AdapterPackage.FromParts(File.ReadAllBytes(CliFiles.Input(r.GetRequiredValue(manifest))), File.ReadAllBytes(CliFiles.Input(r.GetRequiredValue(weights))),
                r.GetValue(onnxGraph) is { } g ? File.ReadAllBytes(CliFiles.Input(g)) : null);
            string target = CliFiles.Output(r.GetRequiredValue(output), $"{p.Manifest.Id}-{p.Manifest.Version}.ecadapter");
            CliFiles.WriteWhole(target, s => s.Write(p.ToBytes()));
            CliFiles.Report(target).WriteLine($"{p.Manifest.Id} v{p.Manifest.Version} (expert {p.Manifest.ExpertId}), {p.Manifest.ParameterCount} parameters{(p.HasOnnxSynthesis ? ", ONNX patch" : "")}, content {p.ContentSha256[..12]}");
            return CliRunner.Ok;
        }));

        var file = new Argument<FileInfo>("package") { Description = "Adapter package (.ecadapter)" };
        var key = new Option<FileInfo>("--key") { Description = "Publisher private key (PEM)", Required = true };
        var sign = new Command("sign", "Sign a package in place with a publisher key") { file, key };
        sign.SetAction(r => CliRunner.Run(() =>
        {
            string path = CliFiles.Input(r.GetRequiredValue(file));
            using var k = AdapterKeys.Import(File.ReadAllText(CliFiles.Input(r.GetRequiredValue(key))));
            var signed = AdapterPackage.Read(File.ReadAllBytes(path)).Sign(k);
            CliFiles.WriteWhole(path, s => s.Write(signed.ToBytes()));
            Console.WriteLine($"signed {signed.Manifest.Id} v{signed.Manifest.Version} with key {signed.KeyId}");
            return CliRunner.Ok;
        }));

        var trust = new Option<DirectoryInfo>("--trust") { Description = "Folder of trusted *.pub.pem keys", Required = true };
        var model = CommonOptions.Model();
        var file2 = new Argument<FileInfo>("package") { Description = "Adapter package (.ecadapter)" };
        var verify = new Command("verify", "Check signature, base model and layers") { file2, trust, model };
        verify.SetAction(r => CliRunner.Run(() =>
        {
            using var store = AdapterTrustStore.FromDirectory(r.GetRequiredValue(trust).FullName);
            var p = AdapterPackage.Read(File.ReadAllBytes(CliFiles.Input(r.GetRequiredValue(file2))));
            return Checked(() =>
            {
                p.VerifySignature(store);
                _ = CliRunner.LoadPack(r.GetValue(model)).WithAdapter(p);
                Console.WriteLine($"verified: {p.Manifest.Id} v{p.Manifest.Version}, signed by {p.KeyId}, fits model {p.Manifest.BaseModelSha256[..12]}");
            });
        }));

        var storeDir = new Option<DirectoryInfo>("--store") { Description = "Device adapter store folder", Required = true };
        var trust2 = new Option<DirectoryInfo>("--trust") { Description = "Folder of trusted *.pub.pem keys", Required = true };
        var model2 = CommonOptions.Model();
        var file3 = new Argument<FileInfo>("package") { Description = "Adapter package (.ecadapter)" };
        var quota = new Option<long>("--quota") { Description = "Store quota in bytes", DefaultValueFactory = _ => 16L << 20 };
        var install = new Command("install", "Verify and atomically install into a device store") { file3, storeDir, trust2, model2, quota };
        install.SetAction(r => CliRunner.Run(() =>
        {
            using var store = AdapterTrustStore.FromDirectory(r.GetRequiredValue(trust2).FullName);
            var registry = new AdapterRegistry(r.GetRequiredValue(storeDir).FullName, CliRunner.LoadPack(r.GetValue(model2)), store, r.GetValue(quota));
            return Checked(() =>
            {
                var (installed, evicted) = registry.Install(File.ReadAllBytes(CliFiles.Input(r.GetRequiredValue(file3))));
                Console.WriteLine($"installed {installed.Id} v{installed.ActiveVersion} (expert {installed.ExpertId})" + (evicted.Count > 0 ? $"; evicted {string.Join(", ", evicted)}" : ""));
            });
        }));

        var storeDir2 = new Option<DirectoryInfo>("--store") { Description = "Device adapter store folder", Required = true };
        var list = new Command("list", "List the adapters of a device store") { storeDir2 };
        list.SetAction(r => CliRunner.Run(() =>
        {
            var table = new Table().AddColumns("id", "expert", "domain", "active", "previous", "bytes").Border(TableBorder.Rounded);
            foreach (var a in AdapterRegistry.ReadStored(r.GetRequiredValue(storeDir2).FullName))
            {
                table.AddRow(a.Id, $"{a.ExpertId}", Markup.Escape(a.Domain), $"v{a.ActiveVersion}", a.PreviousVersion is { } v ? $"v{v}" : "-", $"{a.Bytes}");
            }

            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }));

        var id = new Argument<string>("id") { Description = "Adapter id" };
        var storeDir3 = new Option<DirectoryInfo>("--store") { Description = "Device adapter store folder", Required = true };
        var rollback = new Option<bool>("--rollback") { Description = "Re-activate the previous version instead of removing" };
        var remove = new Command("remove", "Remove an adapter (or roll it back) in a device store") { id, storeDir3, rollback };
        remove.SetAction(r => CliRunner.Run(() =>
        {
            string root = r.GetRequiredValue(storeDir3).FullName;
            bool ok = r.GetValue(rollback) ? AdapterRegistry.RollbackStored(root, r.GetRequiredValue(id)) : AdapterRegistry.RemoveStored(root, r.GetRequiredValue(id));
            Console.WriteLine(ok ? $"{(r.GetValue(rollback) ? "rolled back" : "removed")} {r.GetRequiredValue(id)}" : $"{r.GetRequiredValue(id)}: nothing to do");
            return ok ? CliRunner.Ok : CliRunner.BadInput;
        }));

        command.Subcommands.Add(pack);
        command.Subcommands.Add(sign);
        command.Subcommands.Add(verify);
        command.Subcommands.Add(install);
        command.Subcommands.Add(list);
        command.Subcommands.Add(remove);
        return command;
    }

    private static int Checked(Action action)
    {
        try
        {
            action();
            return CliRunner.Ok;
        }
        catch (AdapterVerificationException ex)
        {
            return CliRunner.Error(CliRunner.BadInput, ex.Message);
        }
    }
}
