using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Xmpp;

/// <summary>
/// XEP-0078 §3.2 digest: lowercase hex SHA-1 of the stream id followed by the password. The stream id changes with
/// every stream, so checking one needs the password itself (a password equivalent), not a derived key.
/// </summary>
public static class LegacyAuthDigest
{
    private const int Sha1Bytes = 20;

    public static string Compute(string streamId, ReadOnlySpan<byte> passwordUtf8) =>
        Convert.ToHexStringLower(Hash(streamId, passwordUtf8));

    /// <summary>True when <paramref name="digest"/> (hex, either case) is the digest of this stream id and password; constant-time.</summary>
    public static bool Verify(string streamId, ReadOnlySpan<byte> passwordUtf8, string digest)
    {
        Span<byte> claimed = stackalloc byte[Sha1Bytes];
        if (digest.Length != Sha1Bytes * 2 || Convert.FromHexString(digest, claimed, out _, out var written) != OperationStatus.Done ||
            written != Sha1Bytes)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Hash(streamId, passwordUtf8), claimed);
    }

    private static byte[] Hash(string streamId, ReadOnlySpan<byte> passwordUtf8)
    {
        var input = new byte[Encoding.UTF8.GetByteCount(streamId) + passwordUtf8.Length];
        var idLength = Encoding.UTF8.GetBytes(streamId, input);
        passwordUtf8.CopyTo(input.AsSpan(idLength));
        var hash = SHA1.HashData(input);
        CryptographicOperations.ZeroMemory(input);
        return hash;
    }
}
