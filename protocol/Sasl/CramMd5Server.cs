using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>CRAM-MD5 (RFC 2195): the client answers "user SP hex(HMAC-MD5(password, challenge))".</summary>
public sealed class CramMd5Server(CredentialLookup lookup, string domain, Func<string>? challengeSource = null) : ISaslServerMechanism
{
    private byte[]? _challenge;

    public string Name => "CRAM-MD5";

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientData, bool isInitial)
    {
        if (_challenge is null)
        {
            if (!clientData.IsEmpty) return SaslStep.Failed(SaslFailure.MalformedRequest, "CRAM-MD5 takes no initial response");
            var text = challengeSource?.Invoke() ??
                       $"<{RandomNumberGenerator.GetInt32(int.MaxValue)}.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}@{domain}>";
            _challenge = Encoding.ASCII.GetBytes(text);
            return SaslStep.Challenge(_challenge);
        }

        var answer = Encoding.UTF8.GetString(clientData.Span);
        var space = answer.LastIndexOf(' ');
        if (space <= 0 || answer.Length - space - 1 != 32)
            return SaslStep.Failed(SaslFailure.MalformedRequest, "CRAM-MD5 response is not 'user digest'");
        var username = answer[..space];
        byte[] digest;
        try
        {
            digest = Convert.FromHexString(answer.AsSpan(space + 1));
        }
        catch (FormatException)
        {
            return SaslStep.Failed(SaslFailure.MalformedRequest, "CRAM-MD5 digest is not hex", username);
        }
        var credentials = await lookup(username);
        if (credentials is null) return SaslStep.Failed(SaslFailure.NotAuthorized, "unknown user", username);
        var expected = CramMd5Math.Hmac(credentials.CramMd5Midstates, _challenge);
        return CryptographicOperations.FixedTimeEquals(expected, digest)
            ? SaslStep.Succeeded(credentials.Username)
            : SaslStep.Failed(SaslFailure.NotAuthorized, "wrong password", credentials.Username);
    }
}
