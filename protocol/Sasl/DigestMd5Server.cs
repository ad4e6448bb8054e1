using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>
/// DIGEST-MD5 (RFC 2831) as the spec's terminals use it (spec 7.1.3–7.1.6): realm and digest-uri host are the
/// server's domain, qop=auth, and rspauth travels in &lt;success&gt;.
/// </summary>
/// <param name="realm">the domain of this stream; its stored H(user:realm:pass) is used.</param>
/// <param name="servedDomains">hosts accepted in digest-uri "xmpp/host".</param>
public sealed class DigestMd5Server(CredentialLookup lookup, string realm, IReadOnlyCollection<string> servedDomains, Func<string>? nonceSource = null)
    : ISaslServerMechanism
{
    private string? _nonce;

    public string Name => "DIGEST-MD5";

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientData, bool isInitial)
    {
        if (_nonce is null)
        {
            if (!clientData.IsEmpty) return SaslStep.Failed(SaslFailure.MalformedRequest, "DIGEST-MD5 takes no initial response");
            _nonce = nonceSource?.Invoke() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
            var challenge = $"realm={DigestDirectives.Quote(realm)},nonce={DigestDirectives.Quote(_nonce)},qop=\"auth\",charset=utf-8,algorithm=md5-sess";
            return SaslStep.Challenge(Encoding.UTF8.GetBytes(challenge));
        }

        var directives = DigestDirectives.Parse(Encoding.UTF8.GetString(clientData.Span));
        if (directives is null) return SaslStep.Failed(SaslFailure.MalformedRequest, "unparsable digest-response");
        if (!directives.TryGetValue("username", out var username) || !directives.TryGetValue("nonce", out var nonce) ||
            !directives.TryGetValue("cnonce", out var cnonce) || !directives.TryGetValue("nc", out var nc) ||
            !directives.TryGetValue("digest-uri", out var digestUri) || !directives.TryGetValue("response", out var response))
        {
            return SaslStep.Failed(SaslFailure.MalformedRequest, "digest-response lacks a required directive");
        }
        var clientRealm = directives.GetValueOrDefault("realm", string.Empty);
        var qop = directives.GetValueOrDefault("qop", "auth");
        directives.TryGetValue("authzid", out var authzid);

        if (nonce != _nonce) return SaslStep.Failed(SaslFailure.NotAuthorized, "nonce mismatch", username);
        if (nc != "00000001") return SaslStep.Failed(SaslFailure.NotAuthorized, "nonce count is not 00000001", username);
        if (qop != "auth") return SaslStep.Failed(SaslFailure.MechanismTooWeak, "only qop=auth is offered", username);
        if (!IsServedDigestUri(digestUri)) return SaslStep.Failed(SaslFailure.NotAuthorized, $"digest-uri {digestUri} is not this server", username);

        var credentials = await lookup(username);
        if (credentials is null) return SaslStep.Failed(SaslFailure.NotAuthorized, "unknown user", username);
        if (!credentials.DigestMd5Ha1ByRealm.TryGetValue(clientRealm, out var ha1))
            return SaslStep.Failed(SaslFailure.NotAuthorized, $"no DIGEST-MD5 secret for realm '{clientRealm}'", credentials.Username);

        var expected = DigestMd5Math.Response(ha1, nonce, cnonce, nc, qop, digestUri, authzid, "AUTHENTICATE");
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(response.ToLowerInvariant())))
            return SaslStep.Failed(SaslFailure.NotAuthorized, "wrong password", credentials.Username);
        if (!SaslAuthzid.IsSameUser(authzid, credentials.Username))
            return SaslStep.Failed(SaslFailure.InvalidAuthzid, "authzid names another user", credentials.Username);

        var rspauth = DigestMd5Math.Response(ha1, nonce, cnonce, nc, qop, digestUri, authzid, string.Empty);
        return SaslStep.Succeeded(credentials.Username, Encoding.ASCII.GetBytes("rspauth=" + rspauth));
    }

    private bool IsServedDigestUri(string digestUri)
    {
        if (!digestUri.StartsWith("xmpp/", StringComparison.OrdinalIgnoreCase)) return false;
        var host = digestUri[5..];
        var slash = host.IndexOf('/');
        if (slash >= 0) host = host[..slash];
        return string.Equals(host, realm, StringComparison.OrdinalIgnoreCase) ||
               servedDomains.Contains(host, StringComparer.OrdinalIgnoreCase);
    }
}
