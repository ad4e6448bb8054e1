using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Mmss.Gateway.S2s;

/// <summary>
/// Dialback keys as XEP-0185 §2 recommends: key = HEX(HMAC-SHA256(SHA256(secret), "receiving originating streamid")),
/// with SHA256(secret) in hexadecimal as that XEP's reference script (XMPP wiki) feeds it to HMAC. Only this domain's own
/// processes ever check a key it generated, so the exact form matters only between them. Stateless: any process of this domain that shares the secret verifies a key another one generated, which is what a
/// peer's verification connection (XEP-0220 §2.1.2) needs when it lands on a different gateway than the one that sent.
/// </summary>
public sealed class DialbackKeys
{
    private readonly byte[] _hmacKey;

    public DialbackKeys(IOptions<S2sOptions> options, ILogger<DialbackKeys> logger)
    {
        var secret = options.Value.DialbackSecret;
        IsEphemeral = string.IsNullOrEmpty(secret);
        if (IsEphemeral)
        {
            logger.LogWarning("Mmss:S2s:DialbackSecret is not set: using a random secret for this process only; " +
                              "set the same secret on every process of this domain before running more than one");
        }
        var hashed = SHA256.HashData(IsEphemeral ? RandomNumberGenerator.GetBytes(32) : Encoding.UTF8.GetBytes(secret));
        _hmacKey = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(hashed));
    }

    /// <summary>True when the secret is random for this process (no <see cref="S2sOptions.DialbackSecret"/> configured).</summary>
    public bool IsEphemeral { get; }

    /// <summary>The key the originating server sends in &lt;db:result/&gt;; domains compared case-insensitively (RFC 6120 §3.2).</summary>
    public string Generate(string receivingDomain, string originatingDomain, string streamId)
    {
        var text = $"{receivingDomain.ToLowerInvariant()} {originatingDomain.ToLowerInvariant()} {streamId}";
        return Convert.ToHexStringLower(HMACSHA256.HashData(_hmacKey, Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Whether <paramref name="key"/> is the key this domain would have generated; constant time.</summary>
    public bool Verify(string receivingDomain, string originatingDomain, string streamId, string key)
    {
        var expected = Encoding.ASCII.GetBytes(Generate(receivingDomain, originatingDomain, streamId));
        var given = Encoding.ASCII.GetBytes(key.Trim().ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
