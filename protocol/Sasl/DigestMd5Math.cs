using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>The response and rspauth computations of RFC 2831 §2.1.2.1 (qop=auth, md5-sess).</summary>
public static class DigestMd5Math
{
    /// <summary>H({ username ":" realm ":" passwd }): the per-realm secret the server stores.</summary>
    public static byte[] UserRealmPasswordHash(string username, string realm, string password) =>
        MD5.HashData(Encoding.UTF8.GetBytes($"{username}:{realm}:{password}"));

    /// <summary>HEX(KD(HEX(H(A1)), nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2)))).</summary>
    /// <param name="a2Prefix">"AUTHENTICATE" for the client's response, empty for the server's rspauth.</param>
    public static string Response(byte[] userRealmPasswordHash, string nonce, string cnonce, string nc, string qop,
        string digestUri, string? authzid, string a2Prefix)
    {
        var a1Tail = Encoding.UTF8.GetBytes($":{nonce}:{cnonce}" + (authzid is null ? "" : ":" + authzid));
        var a1 = new byte[userRealmPasswordHash.Length + a1Tail.Length];
        userRealmPasswordHash.CopyTo(a1, 0);
        a1Tail.CopyTo(a1, userRealmPasswordHash.Length);
        var ha1 = Convert.ToHexStringLower(MD5.HashData(a1));
        var ha2 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes($"{a2Prefix}:{digestUri}")));
        return Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes($"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")));
    }
}
