using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>DIGEST-MD5 client as a Smack terminal performs it: digest-uri "xmpp/&lt;server&gt;", qop=auth.</summary>
public sealed class DigestMd5Client(string username, string password, string serverHost, Func<string>? cnonceSource = null) : ISaslClientMechanism
{
    private string? _expectedRspauth;

    public string Name => "DIGEST-MD5";

    public byte[]? InitialResponse() => null;

    public byte[] Respond(byte[] challenge)
    {
        var directives = DigestDirectives.Parse(Encoding.UTF8.GetString(challenge)) ?? throw new FormatException("bad challenge");
        if (directives.TryGetValue("rspauth", out _)) return [];
        var realm = directives.GetValueOrDefault("realm", serverHost);
        var nonce = directives["nonce"];
        var cnonce = cnonceSource?.Invoke() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        var digestUri = "xmpp/" + serverHost;
        var ha1 = DigestMd5Math.UserRealmPasswordHash(username, realm, password);
        var response = DigestMd5Math.Response(ha1, nonce, cnonce, "00000001", "auth", digestUri, null, "AUTHENTICATE");
        _expectedRspauth = DigestMd5Math.Response(ha1, nonce, cnonce, "00000001", "auth", digestUri, null, string.Empty);
        return Encoding.UTF8.GetBytes(
            $"username={DigestDirectives.Quote(username)},realm={DigestDirectives.Quote(realm)},nonce={DigestDirectives.Quote(nonce)}," +
            $"cnonce={DigestDirectives.Quote(cnonce)},nc=00000001,qop=auth,digest-uri={DigestDirectives.Quote(digestUri)}," +
            $"response={response},charset=utf-8");
    }

    public bool VerifySuccess(byte[]? additionalData)
    {
        if (additionalData is null || additionalData.Length == 0) return false;
        var directives = DigestDirectives.Parse(Encoding.UTF8.GetString(additionalData));
        return directives is not null && directives.TryGetValue("rspauth", out var rspauth) && rspauth == _expectedRspauth;
    }
}
