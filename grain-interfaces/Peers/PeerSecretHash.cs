using System.Security.Cryptography;
using System.Text;

namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// A secret this domain only checks (the one a peer presents when it hands attachments over), kept as a salted
/// HMAC-SHA-256: 16 bytes of salt, then the 32-byte MAC. Peer secrets are long random strings an operator generates
/// (the admin API asks for at least <see cref="MinimumLength"/> characters), so one keyed hash is enough.
/// </summary>
public static class PeerSecretHash
{
    public const int MinimumLength = 16;
    private const int SaltBytes = 16;

    public static byte[] Hash(string secret)
    {
        var stored = new byte[SaltBytes + HMACSHA256.HashSizeInBytes];
        RandomNumberGenerator.Fill(stored.AsSpan(0, SaltBytes));
        HMACSHA256.HashData(stored.AsSpan(0, SaltBytes), Encoding.UTF8.GetBytes(secret), stored.AsSpan(SaltBytes));
        return stored;
    }

    public static bool Matches(byte[]? stored, string presented)
    {
        if (stored is not { Length: SaltBytes + HMACSHA256.HashSizeInBytes } || presented.Length == 0) return false;
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(stored.AsSpan(0, SaltBytes), Encoding.UTF8.GetBytes(presented), mac);
        return CryptographicOperations.FixedTimeEquals(mac, stored.AsSpan(SaltBytes));
    }
}
