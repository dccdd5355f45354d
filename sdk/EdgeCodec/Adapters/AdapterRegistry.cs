using System.Collections.Immutable;
using System.Text.Json;
using EdgeCodec.Models;

namespace EdgeCodec.Adapters;

/// <summary>
/// The device-side adapter store. Installs only verified adapters (trusted signature, this base model, fitting
/// layers); installs are atomic (package written and synced under a temporary name, renamed, then the
/// <c>state.json</c> commit record is replaced by rename), so a crash at any moment leaves the old or the new
/// adapter active, never a broken one. Keeps one previous version for rollback, enforces a byte quota by evicting
/// the least recently used adapter, and swaps adapters in while decoders keep running (readers see an immutable
/// snapshot; no base-model reload). Adapters stored for another base model (the device's pack was updated since they
/// were installed) stay on disk but are inactive: not listed, not advertised, not used, and replaced by the first
/// install of the same id for this model.
/// </summary>
public sealed class AdapterRegistry : IAdapterSource
{
    private const string StateFile = "state.json";
    private readonly string _root;
    private readonly ModelPack _base;
    private readonly AdapterTrustStore _trust;
    private readonly long _quota;
    private readonly Lock _gate = new();
    private AdapterRegistryState _state;
    private ImmutableDictionary<ushort, Lazy<ModelPack>> _snapshot = ImmutableDictionary<ushort, Lazy<ModelPack>>.Empty;
    private ImmutableHashSet<string> _inactive = ImmutableHashSet<string>.Empty;

    /// <summary>Opens (or creates) a store; leftovers of an interrupted install are removed.</summary>
    /// <param name="root">The store folder.</param>
    /// <param name="basePack">The device's model pack.</param>
    /// <param name="trust">Publisher keys this device trusts.</param>
    /// <param name="quotaBytes">Largest total size of installed packages (default 16 MiB).</param>
    /// <exception cref="EdgeCodecFormatException">The commit record is damaged.</exception>
    public AdapterRegistry(string root, ModelPack basePack, AdapterTrustStore trust, long quotaBytes = 16L << 20)
    {
        ArgumentNullException.ThrowIfNull(basePack);
        ArgumentNullException.ThrowIfNull(trust);
        _root = root;
        _base = basePack;
        _trust = trust;
        _quota = quotaBytes;
        Directory.CreateDirectory(root);
        _state = LoadState();
        CleanLeftovers();
        Publish();
    }

    /// <summary>Test hook: called at named points of an install; throwing there simulates a crash.</summary>
    internal Action<string>? CrashPoint { get; set; }

    /// <summary>Installed adapters that work with this base model (what a device advertises and decodes with).</summary>
    public IReadOnlyList<InstalledAdapter> List()
    {
        lock (_gate)
        {
            return [.. _state.Adapters.Where(a => !_inactive.Contains(a.Id)).OrderBy(a => a.Id, StringComparer.Ordinal)];
        }
    }

    /// <summary>Stored adapters that are inactive: made for another base model, or whose package no longer reads.</summary>
    public IReadOnlyList<InstalledAdapter> ListInactive()
    {
        lock (_gate)
        {
            return [.. _state.Adapters.Where(a => _inactive.Contains(a.Id)).OrderBy(a => a.Id, StringComparer.Ordinal)];
        }
    }

    /// <summary>Verifies and installs a package; a newer version of an installed adapter becomes active and the old one is kept for rollback.</summary>
    /// <param name="packageFile">The package bytes (untrusted).</param>
    /// <returns>The installed record and the ids evicted to stay within the quota.</returns>
    /// <exception cref="EdgeCodecFormatException">The package is malformed.</exception>
    /// <exception cref="AdapterVerificationException">Unsigned, untrusted, tampered, wrong base model, or not newer than the active version.</exception>
    public (InstalledAdapter Installed, IReadOnlyList<string> Evicted) Install(byte[] packageFile)
    {
        ArgumentNullException.ThrowIfNull(packageFile);
        var package = AdapterPackage.Read(packageFile);
        package.VerifySignature(_trust);
        _ = _base.WithAdapter(package); // model hash and layer shapes must fit before anything is written
        var m = package.Manifest;
        if (packageFile.LongLength > _quota)
        {
            throw new AdapterVerificationException($"Adapter '{m.Id}' ({packageFile.Length} bytes) is larger than the store quota ({_quota}).");
        }

        lock (_gate)
        {
            var current = _state.Adapters.FirstOrDefault(a => a.Id == m.Id);
            // Versions only order packages of one base model: an inactive record (another model) is simply replaced.
            if (current is not null && !_inactive.Contains(current.Id) && m.Version <= current.ActiveVersion)
            {
                throw new AdapterVerificationException($"Adapter '{m.Id}' version {m.Version} is not newer than the active version {current.ActiveVersion}.");
            }

            if (_state.Adapters.Any(a => a.ExpertId == m.ExpertId && a.Id != m.Id && !_inactive.Contains(a.Id)))
            {
                throw new AdapterVerificationException($"Expert id {m.ExpertId} is already served by another adapter.");
            }

            string file = $"{m.Id}-v{m.Version}-{package.ContentSha256[..12]}.ecadapter";
            WriteDurably(Path.Combine(_root, file), packageFile);
            CrashPoint?.Invoke("package-written");

            var installed = new InstalledAdapter
            {
                Id = m.Id,
                ExpertId = m.ExpertId,
                Domain = m.Domain,
                ActiveVersion = m.Version,
                ActiveFile = file,
                PreviousVersion = current?.ActiveVersion,
                PreviousFile = current?.ActiveFile,
                Bytes = packageFile.LongLength + (current is null ? 0 : FileSize(_root, current.ActiveFile)),
                LastUsedTicks = DateTime.UtcNow.Ticks,
            };
            var next = new AdapterRegistryState { Adapters = [.. _state.Adapters.Where(a => a.Id != m.Id), installed] };
            var evicted = Evict(next, keep: m.Id);
            Commit(next);
            CrashPoint?.Invoke("committed");
            if (current?.PreviousFile is { } older)
            {
                TryDelete(_root, older);
            }

            foreach (var e in evicted)
            {
                TryDelete(_root, e.ActiveFile);
                if (e.PreviousFile is not null)
                {
                    TryDelete(_root, e.PreviousFile);
                }
            }

            return (installed, [.. evicted.Select(e => e.Id)]);
        }
    }

    /// <summary>Makes the previous version of <paramref name="id"/> active again.</summary>
    /// <param name="id">Adapter id.</param>
    /// <returns>False when there is no previous version.</returns>
    public bool Rollback(string id) => Edit(id, rollback: true);

    /// <summary>Removes an adapter (all versions).</summary>
    /// <param name="id">Adapter id.</param>
    /// <returns>False when it was not installed.</returns>
    public bool Remove(string id) => Edit(id, rollback: false);

    /// <summary>Lists every adapter recorded in a store folder, active or not, without opening the store (for maintenance tools on a device whose model pack is not at hand).</summary>
    /// <param name="root">The store folder; a folder without a commit record is an empty store.</param>
    /// <exception cref="EdgeCodecFormatException">The commit record is damaged.</exception>
    public static IReadOnlyList<InstalledAdapter> ReadStored(string root) =>
        [.. ReadStateFile(Path.Combine(root, StateFile)).Adapters.OrderBy(a => a.Id, StringComparer.Ordinal)];

    /// <summary>Makes the previous version of <paramref name="id"/> active again in a store folder that no <see cref="AdapterRegistry"/> has open.</summary>
    /// <param name="root">The store folder.</param>
    /// <param name="id">Adapter id.</param>
    /// <returns>False when the adapter is not stored or has no previous version.</returns>
    /// <exception cref="EdgeCodecFormatException">The commit record is damaged.</exception>
    public static bool RollbackStored(string root, string id) => EditStored(root, id, rollback: true);

    /// <summary>Removes an adapter (all versions) from a store folder that no <see cref="AdapterRegistry"/> has open.</summary>
    /// <param name="root">The store folder.</param>
    /// <param name="id">Adapter id.</param>
    /// <returns>False when the adapter is not stored.</returns>
    /// <exception cref="EdgeCodecFormatException">The commit record is damaged.</exception>
    public static bool RemoveStored(string root, string id) => EditStored(root, id, rollback: false);

    private static bool EditStored(string root, string id, bool rollback)
    {
        ArgumentNullException.ThrowIfNull(id);
        var state = ReadStateFile(Path.Combine(root, StateFile));
        var (next, delete) = Plan(state, id, rollback, file => FileSize(root, file));
        if (next is null)
        {
            return false;
        }

        WriteDurably(Path.Combine(root, StateFile), JsonSerializer.SerializeToUtf8Bytes(next, AdapterJsonContext.Default.AdapterRegistryState));
        delete.ForEach(f => TryDelete(root, f));
        return true;
    }

    private bool Edit(string id, bool rollback)
    {
        lock (_gate)
        {
            var (next, delete) = Plan(_state, id, rollback, file => FileSize(_root, file));
            if (next is null)
            {
                return false;
            }

            Commit(next);
            delete.ForEach(f => TryDelete(_root, f));
            return true;
        }
    }

    /// <summary>The state after a rollback or removal, and the files it no longer references; null when there is nothing to do.</summary>
    private static (AdapterRegistryState? Next, List<string> Delete) Plan(AdapterRegistryState state, string id, bool rollback, Func<string, long> size)
    {
        var current = state.Adapters.FirstOrDefault(a => a.Id == id);
        if (current is null || (rollback && (current.PreviousFile is null || current.PreviousVersion is null)))
        {
            return (null, []);
        }

        var others = state.Adapters.Where(a => a.Id != id).ToList();
        if (!rollback)
        {
            return (new AdapterRegistryState { Adapters = others }, [.. new[] { current.ActiveFile, current.PreviousFile }.OfType<string>()]);
        }

        others.Add(new InstalledAdapter
        {
            Id = current.Id,
            ExpertId = current.ExpertId,
            Domain = current.Domain,
            ActiveVersion = current.PreviousVersion!.Value,
            ActiveFile = current.PreviousFile!,
            Bytes = size(current.PreviousFile!),
            LastUsedTicks = current.LastUsedTicks,
        });
        return (new AdapterRegistryState { Adapters = others }, [current.ActiveFile]);
    }

    /// <inheritdoc/>
    public bool TryGetPack(ushort expertId, out ModelPack pack)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot.TryGetValue(expertId, out var lazy))
        {
            try
            {
                pack = lazy.Value;
                Touch(expertId);
                return true;
            }
            catch (Exception e) when (e is EdgeCodecFormatException or AdapterVerificationException)
            {
                // The package names this base model but its layers do not fit it: decode the expert's tiles with the
                // base synthesis instead of failing the frame.
            }
        }

        pack = _base;
        return false;
    }

    private void Touch(ushort expertId)
    {
        lock (_gate)
        {
            int i = _state.Adapters.FindIndex(x => x.ExpertId == expertId);
            if (i >= 0)
            {
                _state.Adapters[i] = _state.Adapters[i].WithLastUsed(DateTime.UtcNow.Ticks);
            }
        }
    }

    private List<InstalledAdapter> Evict(AdapterRegistryState next, string keep)
    {
        var evicted = new List<InstalledAdapter>();
        while (next.Adapters.Sum(a => a.Bytes) > _quota)
        {
            var victim = next.Adapters.Where(a => a.Id != keep).OrderBy(a => a.LastUsedTicks).FirstOrDefault();
            if (victim is null)
            {
                break;
            }

            next.Adapters.Remove(victim);
            evicted.Add(victim);
        }

        return evicted;
    }

    private void Commit(AdapterRegistryState next)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(next, AdapterJsonContext.Default.AdapterRegistryState);
        string path = Path.Combine(_root, StateFile);
        WriteDurably(path, json);
        _state = next;
        Publish();
    }

    private void Publish()
    {
        var builder = ImmutableDictionary.CreateBuilder<ushort, Lazy<ModelPack>>();
        var inactive = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var a in _state.Adapters)
        {
            if (ReadIfMadeForBase(Path.Combine(_root, a.ActiveFile)) is not { } package)
            {
                inactive.Add(a.Id);
                continue;
            }

            builder[a.ExpertId] = new Lazy<ModelPack>(() => _base.WithAdapter(package));
        }

        _inactive = inactive.ToImmutable();
        Volatile.Write(ref _snapshot, builder.ToImmutable());
    }

    /// <summary>The stored package at <paramref name="path"/> when it reads and names this store's base model; otherwise null.</summary>
    private AdapterPackage? ReadIfMadeForBase(string path)
    {
        try
        {
            var package = AdapterPackage.Read(File.ReadAllBytes(path));
            return string.Equals(package.Manifest.BaseModelSha256, _base.Sha256, StringComparison.Ordinal) ? package : null;
        }
        catch (Exception e) when (e is IOException or EdgeCodecFormatException)
        {
            return null;
        }
    }

    private AdapterRegistryState LoadState() => ReadStateFile(Path.Combine(_root, StateFile));

    private static AdapterRegistryState ReadStateFile(string path)
    {
        if (!File.Exists(path))
        {
            return new AdapterRegistryState();
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), AdapterJsonContext.Default.AdapterRegistryState) ?? new AdapterRegistryState();
        }
        catch (JsonException ex)
        {
            throw new EdgeCodecFormatException($"The adapter store's {StateFile} is damaged: {ex.Message}");
        }
    }

    private void CleanLeftovers()
    {
        var referenced = new HashSet<string>(_state.Adapters.SelectMany(a => new[] { a.ActiveFile, a.PreviousFile }).OfType<string>(), StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(_root))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".tmp", StringComparison.Ordinal) || (name.EndsWith(".ecadapter", StringComparison.Ordinal) && !referenced.Contains(name)))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Write to a temporary name, flush to the device, then rename over the target (atomic on POSIX).</summary>
    private static void WriteDurably(string path, byte[] bytes)
    {
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }

    private static long FileSize(string root, string file)
    {
        var info = new FileInfo(Path.Combine(root, file));
        return info.Exists ? info.Length : 0;
    }

    private static void TryDelete(string root, string file)
    {
        try
        {
            File.Delete(Path.Combine(root, file));
        }
        catch (IOException)
        {
            // Left for CleanLeftovers at the next start.
        }
    }
}
