using EdgeCodec.Adapters;
using EdgeCodec.Tests.Models;

namespace EdgeCodec.Tests.Adapters;

public sealed class AdapterRegistryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("adapters").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [PackFact]
    public void Install_upgrade_rollback_and_remove()
    {
        var (key, trust) = TestAdapters.Publisher();
        var registry = new AdapterRegistry(_root, TestPacks.Pack, trust);
        registry.Install(TestAdapters.Make(TestPacks.Pack, "screen", 2, 1, 1.0, 5).Sign(key).ToBytes());
        registry.Install(TestAdapters.Make(TestPacks.Pack, "screen", 2, 2, 1.0, 9).Sign(key).ToBytes());
        var listed = Assert.Single(registry.List());
        Assert.Equal((2, 1), (listed.ActiveVersion, listed.PreviousVersion!.Value));
        Assert.Throws<AdapterVerificationException>(() => registry.Install(TestAdapters.Make(TestPacks.Pack, "screen", 2, 2, 1.0, 1).Sign(key).ToBytes()));

        Assert.True(registry.Rollback("screen"));
        Assert.Equal(1, new AdapterRegistry(_root, TestPacks.Pack, trust).List()[0].ActiveVersion); // persisted
        Assert.False(registry.Rollback("screen"));
        Assert.True(registry.Remove("screen"));
        Assert.Empty(registry.List());
        Assert.Empty(Directory.GetFiles(_root, "*.ecadapter"));
    }

    [PackFact]
    public void A_store_is_listed_rolled_back_and_cleaned_without_its_model_pack()
    {
        // The maintenance path (edgecodec adapter list/remove) works on the folder alone; what it writes is what a
        // registry opened afterwards sees.
        var (key, trust) = TestAdapters.Publisher();
        Assert.Empty(AdapterRegistry.ReadStored(_root)); // no commit record yet: an empty store
        var registry = new AdapterRegistry(_root, TestPacks.Pack, trust);
        registry.Install(TestAdapters.Make(TestPacks.Pack, "screen", 2, 1, 1.0, 5).Sign(key).ToBytes());
        registry.Install(TestAdapters.Make(TestPacks.Pack, "screen", 2, 2, 1.0, 9).Sign(key).ToBytes());
        registry.Install(TestAdapters.Make(TestPacks.Pack, "drawn", 3, 1, 1.0, 7).Sign(key).ToBytes());

        Assert.Equal(["drawn", "screen"], AdapterRegistry.ReadStored(_root).Select(a => a.Id));
        Assert.True(AdapterRegistry.RollbackStored(_root, "screen"));
        Assert.False(AdapterRegistry.RollbackStored(_root, "screen")); // only one previous version is kept
        Assert.False(AdapterRegistry.RollbackStored(_root, "absent"));
        var screen = new AdapterRegistry(_root, TestPacks.Pack, trust).List().Single(a => a.Id == "screen");
        Assert.Equal((1, (int?)null), (screen.ActiveVersion, screen.PreviousVersion));
        Assert.Equal(new FileInfo(Path.Combine(_root, screen.ActiveFile)).Length, screen.Bytes);

        Assert.True(AdapterRegistry.RemoveStored(_root, "drawn"));
        Assert.False(AdapterRegistry.RemoveStored(_root, "drawn"));
        Assert.Equal("screen", Assert.Single(AdapterRegistry.ReadStored(_root)).Id);
        Assert.Equal([screen.ActiveFile], Directory.GetFiles(_root, "*.ecadapter").Select(Path.GetFileName));

        File.WriteAllText(Path.Combine(_root, "state.json"), "{ not json");
        Assert.Throws<EdgeCodecFormatException>(() => AdapterRegistry.ReadStored(_root));
        Assert.Throws<EdgeCodecFormatException>(() => AdapterRegistry.RemoveStored(_root, "screen"));
        Assert.True(File.Exists(Path.Combine(_root, screen.ActiveFile))); // a damaged record deletes nothing
    }

    [PackFact]
    public void Adapters_stored_for_an_earlier_base_model_are_kept_but_inactive_until_replaced()
    {
        // A device whose model pack was updated still has the previous pack's adapter in its store (written here the
        // way an earlier install left it). It must not advertise or use it, must not fail a decode over it, and must
        // accept the new pack's adapter of the same id and version.
        var (key, trust) = TestAdapters.Publisher();
        string earlierBase = new('0', 64);
        byte[] stale = TestAdapters.Make(TestPacks.Pack, "screen", 2, 1, 1.0, 5, baseModelSha256: earlierBase).Sign(key).ToBytes();
        File.WriteAllBytes(Path.Combine(_root, "screen-v1-stale.ecadapter"), stale);
        var state = new AdapterRegistryState
        {
            Adapters = [new InstalledAdapter { Id = "screen", ExpertId = 2, Domain = "test", ActiveVersion = 1, ActiveFile = "screen-v1-stale.ecadapter", Bytes = stale.Length }],
        };
        File.WriteAllBytes(Path.Combine(_root, "state.json"), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state, AdapterJsonContext.Default.AdapterRegistryState));

        var registry = new AdapterRegistry(_root, TestPacks.Pack, trust);
        Assert.Empty(registry.List());
        Assert.Equal("screen", Assert.Single(registry.ListInactive()).Id);
        Assert.False(registry.TryGetPack(2, out var pack));
        Assert.Same(TestPacks.Pack, pack);
        Assert.True(File.Exists(Path.Combine(_root, "screen-v1-stale.ecadapter"))); // nothing stored is lost

        registry.Install(TestAdapters.Make(TestPacks.Pack, "screen", 2, 1, 1.0, 9).Sign(key).ToBytes());
        var active = Assert.Single(registry.List());
        Assert.Equal(1, active.ActiveVersion);
        Assert.Empty(registry.ListInactive());
        Assert.True(registry.TryGetPack(2, out var adapted));
        Assert.NotSame(TestPacks.Pack, adapted);

        // A stored package that stops reading behind the store's back falls back to the base instead of throwing.
        File.WriteAllBytes(Path.Combine(_root, active.ActiveFile), [1, 2, 3]);
        var reopened = new AdapterRegistry(_root, TestPacks.Pack, trust);
        Assert.Empty(reopened.List());
        Assert.False(reopened.TryGetPack(2, out _));
    }

    [PackFact]
    public void Untrusted_or_tampered_packages_never_reach_the_store()
    {
        var (_, trust) = TestAdapters.Publisher();
        var (stranger, _) = TestAdapters.Publisher();
        var registry = new AdapterRegistry(_root, TestPacks.Pack, trust);
        Assert.Throws<AdapterVerificationException>(() => registry.Install(TestAdapters.Make(TestPacks.Pack, "x", 1, 1, 1.0, 0).Sign(stranger).ToBytes()));
        Assert.Throws<EdgeCodecFormatException>(() => registry.Install([1, 2, 3]));
        Assert.Empty(registry.List());
        Assert.Empty(Directory.GetFiles(_root, "*.ecadapter"));
    }

    [PackFact]
    public void Quota_evicts_the_least_recently_used_adapter()
    {
        var (key, trust) = TestAdapters.Publisher();
        byte[] a = TestAdapters.Make(TestPacks.Pack, "a", 1, 1, 1.0, 1).Sign(key).ToBytes();
        var registry = new AdapterRegistry(_root, TestPacks.Pack, trust, quotaBytes: (a.Length * 2) + 100);
        registry.Install(a);
        Thread.Sleep(5);
        registry.Install(TestAdapters.Make(TestPacks.Pack, "b", 2, 1, 1.0, 2).Sign(key).ToBytes());
        Thread.Sleep(5);
        InstalledAdapter listed = registry.List().Single(x => x.Id == "a");
        long listedTicks = listed.LastUsedTicks;
        Assert.True(registry.TryGetPack(1, out _)); // "a" used: "b" is now the least recently used
        Assert.Equal(listedTicks, listed.LastUsedTicks); // a listed record is a snapshot, not the registry's state
        Assert.True(registry.List().Single(x => x.Id == "a").LastUsedTicks > listedTicks);
        Thread.Sleep(5);
        var (_, evicted) = registry.Install(TestAdapters.Make(TestPacks.Pack, "c", 3, 1, 1.0, 3).Sign(key).ToBytes());
        Assert.Equal(["b"], evicted);
        Assert.Equal(["a", "c"], registry.List().Select(x => x.Id));
        Assert.False(registry.TryGetPack(2, out _));
    }

    [PackFact]
    public void An_interrupted_install_leaves_the_old_or_the_new_version_never_a_broken_one()
    {
        var (key, trust) = TestAdapters.Publisher();
        var v1 = TestAdapters.Make(TestPacks.Pack, "s", 1, 1, 1.0, 1).Sign(key).ToBytes();
        var v2 = TestAdapters.Make(TestPacks.Pack, "s", 1, 2, 1.0, 2).Sign(key).ToBytes();
        new AdapterRegistry(_root, TestPacks.Pack, trust).Install(v1);

        foreach (var (point, expected) in new[] { ("package-written", 1), ("committed", 2) })
        {
            var crashing = new AdapterRegistry(_root, TestPacks.Pack, trust) { CrashPoint = p => { if (p == point) { throw new IOException("power cut"); } } };
            Assert.Throws<IOException>(() => crashing.Install(v2));
            var reopened = new AdapterRegistry(_root, TestPacks.Pack, trust);
            var active = Assert.Single(reopened.List());
            Assert.Equal(expected, active.ActiveVersion);
            Assert.True(reopened.TryGetPack(1, out var pack));
            Assert.Equal("s", pack.AdapterId);
            Assert.Empty(Directory.GetFiles(_root, "*.tmp"));
            if (expected == 2)
            {
                break;
            }

            Assert.Single(Directory.GetFiles(_root, "*.ecadapter")); // the orphaned v2 file was cleaned up
        }
    }
}
