using System.Security.Cryptography;

namespace EdgeCodec.Adapters;

/// <summary>Publisher keys for signing adapters: ECDSA P-256, PEM encoded.</summary>
public static class AdapterKeys
{
    /// <summary>Creates a new key pair.</summary>
    /// <returns>The private key (PKCS#8 PEM, keep it secret) and the public key (SubjectPublicKeyInfo PEM, give it to devices).</returns>
    public static (string PrivateKeyPem, string PublicKeyPem) Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>The key id: the first 16 hex digits of the SHA-256 of the public key's DER encoding.</summary>
    /// <param name="key">A key holding at least the public part.</param>
    public static string KeyId(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
    }

    /// <summary>Imports a PEM key (private or public).</summary>
    /// <param name="pem">PEM text.</param>
    /// <exception cref="ArgumentException">Not a P-256 ECDSA key.</exception>
    public static ECDsa Import(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new ArgumentException("Not an ECDSA key in PEM form.", nameof(pem), ex);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException($"Expected a P-256 key, got {key.KeySize} bits.", nameof(pem));
        }

        return key;
    }
}
