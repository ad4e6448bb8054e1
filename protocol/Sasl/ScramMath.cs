using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>The primitives of RFC 5802 §2.2 for SHA-1 and SHA-256 (RFC 7677).</summary>
public static class ScramMath
{
    public static string MechanismName(ScramAlgorithm algorithm) =>
        algorithm == ScramAlgorithm.Sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";

    public static byte[] SaltedPassword(ScramAlgorithm algorithm, string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(SaslPrep(password)), salt, iterations, Name(algorithm), HashLength(algorithm));

    public static byte[] Hmac(ScramAlgorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) =>
        algorithm == ScramAlgorithm.Sha1 ? HMACSHA1.HashData(key, data) : HMACSHA256.HashData(key, data);

    public static byte[] Hash(ScramAlgorithm algorithm, ReadOnlySpan<byte> data) =>
        algorithm == ScramAlgorithm.Sha1 ? SHA1.HashData(data) : SHA256.HashData(data);

    public static int HashLength(ScramAlgorithm algorithm) => algorithm == ScramAlgorithm.Sha1 ? 20 : 32;

    private static HashAlgorithmName Name(ScramAlgorithm algorithm) =>
        algorithm == ScramAlgorithm.Sha1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;

    /// <summary>
    /// SASLprep (RFC 4013) reduced to what matters for passwords typed on handsets: NFKC normalisation and
    /// non-ASCII spaces mapped to a space. The full prohibited-character tables are not applied.
    /// </summary>
    public static string SaslPrep(string value)
    {
        var ascii = true;
        foreach (var c in value)
        {
            if (c > 0x7F) { ascii = false; break; }
        }
        if (ascii) return value;
        var mapped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '\u00AD' or '\u200B' or '\u2060' or '\uFEFF') continue;
            mapped.Append(char.IsWhiteSpace(c) ? ' ' : c);
        }
        return mapped.ToString().Normalize(NormalizationForm.FormKC);
    }
}
