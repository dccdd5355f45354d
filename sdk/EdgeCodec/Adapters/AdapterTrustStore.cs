using System.Security.Cryptography;

namespace EdgeCodec.Adapters;

/// <summary>The publisher keys a device trusts, by key id.</summary>
public sealed class AdapterTrustStore : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    /// <summary>Trusts a public key.</summary>
    /// <param name="publicKeyPem">SubjectPublicKeyInfo PEM.</param>
    /// <returns>The key id.</returns>
    /// <exception cref="ArgumentException">Not a P-256 key.</exception>
    public string Add(string publicKeyPem)
    {
        var key = AdapterKeys.Import(publicKeyPem);
        string id = AdapterKeys.KeyId(key);
        if (!_keys.TryAdd(id, key))
        {
            key.Dispose();
        }

        return id;
    }

    /// <summary>Loads every <c>*.pub.pem</c> in a folder.</summary>
    /// <param name="directory">The folder.</param>
    public static AdapterTrustStore FromDirectory(string directory)
    {
        var store = new AdapterTrustStore();
        foreach (string file in Directory.GetFiles(directory, "*.pub.pem"))
        {
            store.Add(File.ReadAllText(file));
        }

        return store;
    }

    /// <summary>Number of trusted keys.</summary>
    public int Count => _keys.Count;

    internal bool TryGet(string keyId, out ECDsa key) => _keys.TryGetValue(keyId, out key!);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var k in _keys.Values)
        {
            k.Dispose();
        }

        _keys.Clear();
    }
}
