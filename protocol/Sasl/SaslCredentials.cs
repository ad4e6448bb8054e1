namespace Mmss.Protocol.Sasl;

/// <summary>
/// A user's derived secrets, one per mechanism; the password itself is never kept.
/// </summary>
/// <param name="DigestMd5Ha1ByRealm">H(username ":" realm ":" password) per served realm (RFC 2831 §2.1.2.1).</param>
/// <param name="CramMd5Midstates">HMAC-MD5 inner then outer midstate, 16 bytes each (RFC 2195 §2).</param>
/// <param name="LegacyDigestPassword">
/// The password's UTF-8 bytes, only for users provisioned for XEP-0078 digest logins (which hash it with each new
/// stream id, so nothing derived will do); null for everyone else. A password equivalent.
/// </param>
public sealed record SaslCredentials(
    string Username,
    ScramSecret ScramSha1,
    ScramSecret ScramSha256,
    IReadOnlyDictionary<string, byte[]> DigestMd5Ha1ByRealm,
    byte[] CramMd5Midstates,
    byte[]? LegacyDigestPassword = null);
