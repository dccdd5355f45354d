using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeCodec.Tests.Models;

/// <summary>Builds deliberately broken packs from a good one: re-zipped (valid ZIP, valid CRCs) with edited entries.</summary>
internal static class PackEditor
{
    /// <summary>Rewrites every entry through <paramref name="edit"/>; returning <see langword="null"/> drops the entry.</summary>
    public static byte[] Rewrite(byte[] pack, Func<string, byte[], byte[]?> edit)
    {
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using (var zip = new ZipArchive(new MemoryStream(pack), ZipArchiveMode.Read))
        {
            foreach (ZipArchiveEntry e in zip.Entries)
            {
                using Stream s = e.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                if (edit(e.FullName, m.ToArray()) is byte[] edited)
                {
                    entries[e.FullName] = edited;
                }
            }
        }

        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] data) in entries)
            {
                ZipArchiveEntry e = zip.CreateEntry(name, CompressionLevel.NoCompression);
                using Stream s = e.Open();
                s.Write(data);
            }
        }

        return output.ToArray();
    }

    /// <summary>The bytes of entry <paramref name="name"/> of a pack.</summary>
    public static byte[] Entry(byte[] pack, string name)
    {
        using var zip = new ZipArchive(new MemoryStream(pack, writable: false), ZipArchiveMode.Read);
        using Stream s = zip.GetEntry(name)!.Open();
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    /// <summary>Rewrites <c>manifest.json</c> through a mutation of its JSON tree.</summary>
    public static byte[] EditManifest(byte[] pack, Action<JsonObject> mutate) => Rewrite(pack, (name, data) =>
    {
        if (name != "manifest.json")
        {
            return data;
        }

        JsonObject manifest = JsonNode.Parse(data)!.AsObject();
        mutate(manifest);
        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    });

    /// <summary>The first node of <paramref name="graph"/> whose op is <paramref name="op"/>.</summary>
    public static JsonObject Node(JsonObject manifest, string graph, string op)
        => manifest["graphs"]![graph]!.AsArray().Select(n => n!.AsObject()).First(n => (string?)n["op"] == op);

    /// <summary>Adds (or replaces) entry <paramref name="name"/>, lists its SHA-256 in the manifest and applies <paramref name="mutate"/> to the manifest.</summary>
    public static byte[] AddEntry(byte[] pack, string name, byte[] data, Action<JsonObject> mutate)
        => EditManifest(AppendEntry(pack, name, data), m =>
        {
            m["files"]![name] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
            mutate(m);
        });

    private static byte[] AppendEntry(byte[] pack, string name, byte[] data)
    {
        using var output = new MemoryStream();
        output.Write(pack);
        using (var zip = new ZipArchive(output, ZipArchiveMode.Update, leaveOpen: true))
        {
            zip.GetEntry(name)?.Delete();
            ZipArchiveEntry e = zip.CreateEntry(name, CompressionLevel.NoCompression);
            using Stream s = e.Open();
            s.Write(data);
        }

        return output.ToArray();
    }
}
