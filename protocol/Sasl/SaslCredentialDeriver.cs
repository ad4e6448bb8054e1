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

    /// <summary>
    /// True when <paramref name="password"/> is the one these credentials were derived from (PLAIN, provisioning, HTTP
    /// basic authentication of attachments).
    /// </summary>
    /// <remarks>
    /// The CRAM-MD5 midstates come first. The spec's mechanisms make every server keep them (and DIGEST-MD5's hash), and
    /// they are MD5 blocks of the password's bytes: whoever reads the store can test guesses at MD5's speed already, so
    /// deriving the SCRAM key for a PLAIN login (8,192 HMAC-SHA-256 blocks, a third of a TLS + PLAIN login's CPU) protects
    /// nothing more. Matching them takes finding a second MD5 preimage. Bytes that do not match go on to the SCRAM key,
    /// which SASLprep makes the same for equivalent spellings of the password (RFC 4013), as before: a wrong password
    /// costs what it cost.
    /// </remarks>
    public static bool Verify(SaslCredentials credentials, string password)
    {
        if (CryptographicOperations.FixedTimeEquals(CramMd5Math.Midstates(Encoding.UTF8.GetBytes(password)), credentials.CramMd5Midstates))
            return true;
        var secret = credentials.ScramSha256;
        var salted = ScramMath.SaltedPassword(ScramAlgorithm.Sha256, password, secret.Salt, secret.Iterations);
        var storedKey = ScramMath.Hash(ScramAlgorithm.Sha256, ScramMath.Hmac(ScramAlgorithm.Sha256, salted, "Client Key"u8));
        return CryptographicOperations.FixedTimeEquals(storedKey, secret.StoredKey);
    }
}
