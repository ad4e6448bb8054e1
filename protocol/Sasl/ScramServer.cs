using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>SCRAM-SHA-1 / SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677).</summary>
public sealed class ScramServer(ScramAlgorithm algorithm, CredentialLookup lookup, Func<string>? nonceSource = null) : ISaslServerMechanism
{
    private string? _gs2Header;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private SaslCredentials? _credentials;
    private string? _username;

    public string Name => ScramMath.MechanismName(algorithm);

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientData, bool isInitial)
    {
        string message;
        try
        {
            message = new UTF8Encoding(false, true).GetString(clientData.Span);
        }
        catch (DecoderFallbackException)
        {
            return SaslStep.Failed(SaslFailure.MalformedRequest, "SCRAM message is not UTF-8");
        }
        if (_serverFirst is null)
        {
            if (message.Length == 0) return isInitial ? SaslStep.Challenge([]) : SaslStep.Failed(SaslFailure.MalformedRequest, "empty client-first-message");
            return await ClientFirstAsync(message);
        }
        return ClientFinal(message);
    }

    private async ValueTask<SaslStep> ClientFirstAsync(string message)
    {
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        var first = message.IndexOf(',');
        var second = first < 0 ? -1 : message.IndexOf(',', first + 1);
        if (second < 0) return SaslStep.Failed(SaslFailure.MalformedRequest, "no gs2 header");
        var flag = message[..first];
        if (flag.StartsWith("p=", StringComparison.Ordinal))
            return SaslStep.Failed(SaslFailure.MalformedRequest, "channel binding was not offered");
        if (flag is not ("n" or "y")) return SaslStep.Failed(SaslFailure.MalformedRequest, "bad gs2 channel binding flag");
        var authzidPart = message[(first + 1)..second];
        string? authzid = null;
        if (authzidPart.Length > 0)
        {
            if (!authzidPart.StartsWith("a=", StringComparison.Ordinal)) return SaslStep.Failed(SaslFailure.MalformedRequest, "bad authzid");
            authzid = DecodeName(authzidPart[2..]);
        }
        _gs2Header = message[..(second + 1)];
        _clientFirstBare = message[(second + 1)..];
        var attributes = ParseAttributes(_clientFirstBare);
        if (attributes is null || !attributes.TryGetValue('n', out var rawName) || !attributes.TryGetValue('r', out var clientNonce) ||
            attributes.ContainsKey('m') || clientNonce.Length == 0)
        {
            return SaslStep.Failed(SaslFailure.MalformedRequest, "bad client-first-message");
        }
        var name = DecodeName(rawName);
        if (name is null) return SaslStep.Failed(SaslFailure.MalformedRequest, "bad username encoding");
        _username = name;
        _credentials = await lookup(name);
        if (_credentials is not null && !SaslAuthzid.IsSameUser(authzid, _credentials.Username))
            return SaslStep.Failed(SaslFailure.InvalidAuthzid, "authzid names another user", _credentials.Username);

        // An unknown user still gets a plausible challenge, so that the exchange does not reveal which users exist.
        var secret = _credentials is null ? null : Secret(_credentials);
        var salt = secret?.Salt ?? RandomNumberGenerator.GetBytes(16);
        var iterations = secret?.Iterations ?? SaslCredentialDeriver.DefaultIterations;
        _nonce = clientNonce + (nonceSource?.Invoke() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)));
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(salt)},i={iterations}";
        return SaslStep.Challenge(Encoding.UTF8.GetBytes(_serverFirst));
    }

    private SaslStep ClientFinal(string message)
    {
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0) return SaslStep.Failed(SaslFailure.MalformedRequest, "client-final-message lacks a proof", _username);
        var withoutProof = message[..proofAt];
        var attributes = ParseAttributes(message);
        if (attributes is null || !attributes.TryGetValue('c', out var binding) || !attributes.TryGetValue('r', out var nonce) ||
            !attributes.TryGetValue('p', out var proofText))
        {
            return SaslStep.Failed(SaslFailure.MalformedRequest, "bad client-final-message", _username);
        }
        if (binding != Convert.ToBase64String(Encoding.UTF8.GetBytes(_gs2Header!)))
            return SaslStep.Failed(SaslFailure.NotAuthorized, "channel binding data differs from the gs2 header", _username);
        if (nonce != _nonce) return SaslStep.Failed(SaslFailure.NotAuthorized, "nonce mismatch", _username);
        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(proofText);
        }
        catch (FormatException)
        {
            return SaslStep.Failed(SaslFailure.IncorrectEncoding, "proof is not base64", _username);
        }
        if (_credentials is null) return SaslStep.Failed(SaslFailure.NotAuthorized, "unknown user", _username);
        var secret = Secret(_credentials);
        if (proof.Length != secret.StoredKey.Length) return SaslStep.Failed(SaslFailure.NotAuthorized, "wrong proof length", _credentials.Username);

        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientSignature = ScramMath.Hmac(algorithm, secret.StoredKey, authMessage);
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < clientKey.Length; i++) clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(ScramMath.Hash(algorithm, clientKey), secret.StoredKey))
            return SaslStep.Failed(SaslFailure.NotAuthorized, "wrong password", _credentials.Username);
        var serverSignature = ScramMath.Hmac(algorithm, secret.ServerKey, authMessage);
        return SaslStep.Succeeded(_credentials.Username, Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature)));
    }

    private ScramSecret Secret(SaslCredentials credentials) =>
        algorithm == ScramAlgorithm.Sha1 ? credentials.ScramSha1 : credentials.ScramSha256;

    internal static Dictionary<char, string>? ParseAttributes(string text)
    {
        var result = new Dictionary<char, string>();
        foreach (var part in text.Split(','))
        {
            if (part.Length < 2 || part[1] != '=' || !result.TryAdd(part[0], part[2..])) return null;
        }
        return result;
    }

    /// <summary>saslname: "=2C" is ',' and "=3D" is '='; any other '=' is malformed (RFC 5802 §5.1).</summary>
    internal static string? DecodeName(string value)
    {
        if (!value.Contains('=')) return value;
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '=') { sb.Append(value[i]); continue; }
            if (i + 2 >= value.Length) return null;
            var code = value.Substring(i + 1, 2);
            if (code == "2C") sb.Append(',');
            else if (code == "3D") sb.Append('=');
            else return null;
            i += 2;
        }
        return sb.ToString();
    }
}
