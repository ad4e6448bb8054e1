using Mmss.GrainInterfaces;
using Mmss.Protocol.Sasl;

namespace Mmss.Gateway.Provisioning;

/// <summary>Between the protocol library's SASL secrets and their serializable form in grains.</summary>
public static class CredentialMapping
{
    public static StoredCredentials ToStored(this SaslCredentials c) => new(
        ToStored(c.ScramSha1), ToStored(c.ScramSha256),
        new Dictionary<string, byte[]>(c.DigestMd5Ha1ByRealm, StringComparer.OrdinalIgnoreCase), c.CramMd5Midstates, c.LegacyDigestPassword);

    public static SaslCredentials ToSasl(this StoredCredentials c, string username) => new(
        username, ToSasl(c.ScramSha1), ToSasl(c.ScramSha256),
        new Dictionary<string, byte[]>(c.DigestMd5Ha1ByRealm, StringComparer.OrdinalIgnoreCase), c.CramMd5Midstates, c.LegacyDigestPassword);

    private static StoredScramSecret ToStored(ScramSecret s) => new(s.Salt, s.Iterations, s.StoredKey, s.ServerKey);

    private static ScramSecret ToSasl(StoredScramSecret s) => new(s.Salt, s.Iterations, s.StoredKey, s.ServerKey);
}
