namespace Mmss.GrainInterfaces;

/// <summary>
/// A user's derived secrets, one per SASL mechanism. Passwords never reach a grain, except for users provisioned
/// with legacyDigest: XEP-0078 digest logins need the password itself (null otherwise, and in state stored before).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StoredCredentials(
    [property: Id(0)] StoredScramSecret ScramSha1,
    [property: Id(1)] StoredScramSecret ScramSha256,
    [property: Id(2)] Dictionary<string, byte[]> DigestMd5Ha1ByRealm,
    [property: Id(3)] byte[] CramMd5Midstates,
    [property: Id(4)] byte[]? LegacyDigestPassword = null);
