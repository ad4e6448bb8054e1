using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>Turns a password into the per-mechanism secrets of <see cref="SaslCredentials"/>, and checks a password against them.</summary>
public static class SaslCredentialDeriver
{
    public const int DefaultIterations = 4096;

    /// <param name="keepLegacyDigestPassword">also keep the password itself, which XEP-0078 digest logins need (a password equivalent).</param>
    public static SaslCredentials Derive(string username, string password, IEnumerable<string> realms, int iterations = DefaultIterations,
        bool keepLegacyDigestPassword = false)
    {
        var digest = new Dictionary<string, byte[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var realm in realms) digest[realm] = DigestMd5Math.UserRealmPasswordHash(username, realm, password);
        return new SaslCredentials(
            username,
            DeriveScram(ScramAlgorithm.Sha1, password, RandomNumberGenerator.GetBytes(16), iterations),
            DeriveScram(ScramAlgorithm.Sha256, password, RandomNumberGenerator.GetBytes(16), iterations),
            digest,
            CramMd5Math.Midstates(Encoding.UTF8.GetBytes(password)),
            keepLegacyDigestPassword ? Encoding.UTF8.GetBytes(password) : null);
    }

    public static ScramSecret DeriveScram(ScramAlgorithm algorithm, string password, byte[] salt, int iterations)
    {
        var salted = ScramMath.SaltedPassword(algorithm, password, salt, iterations);
        var clientKey = ScramMath.Hmac(algorithm, salted, "Client Key"u8);
        return new ScramSecret(salt, iterations, ScramMath.Hash(algorithm, clientKey), ScramMath.Hmac(algorithm, salted, "Server Key"u8));
    }

    /// <summary>True when <paramref name="password"/> is the one these credentials were derived from (PLAIN, provisioning).</summary>
    public static bool Verify(SaslCredentials credentials, string password)
    {
        var secret = credentials.ScramSha256;
        var salted = ScramMath.SaltedPassword(ScramAlgorithm.Sha256, password, secret.Salt, secret.Iterations);
        var storedKey = ScramMath.Hash(ScramAlgorithm.Sha256, ScramMath.Hmac(ScramAlgorithm.Sha256, salted, "Client Key"u8));
        return CryptographicOperations.FixedTimeEquals(storedKey, secret.StoredKey);
    }
}
