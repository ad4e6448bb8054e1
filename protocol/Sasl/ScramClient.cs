using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

public sealed class ScramClient(ScramAlgorithm algorithm, string username, string password, Func<string>? nonceSource = null) : ISaslClientMechanism
{
    private string? _clientFirstBare;
    private byte[]? _expectedServerSignature;

    public string Name => ScramMath.MechanismName(algorithm);

    public byte[]? InitialResponse()
    {
        var nonce = nonceSource?.Invoke() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        _clientFirstBare = $"n={username.Replace("=", "=3D").Replace(",", "=2C")},r={nonce}";
        return Encoding.UTF8.GetBytes("n,," + _clientFirstBare);
    }

    public byte[] Respond(byte[] challenge)
    {
        var serverFirst = Encoding.UTF8.GetString(challenge);
        var attributes = ScramServer.ParseAttributes(serverFirst) ?? throw new FormatException("bad server-first-message");
        var salted = ScramMath.SaltedPassword(algorithm, password, Convert.FromBase64String(attributes['s']),
            int.Parse(attributes['i'], System.Globalization.CultureInfo.InvariantCulture));
        var withoutProof = $"c=biws,r={attributes['r']}";
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{serverFirst},{withoutProof}");
        var clientKey = ScramMath.Hmac(algorithm, salted, "Client Key"u8);
        var signature = ScramMath.Hmac(algorithm, ScramMath.Hash(algorithm, clientKey), authMessage);
        for (var i = 0; i < clientKey.Length; i++) clientKey[i] ^= signature[i];
        _expectedServerSignature = ScramMath.Hmac(algorithm, ScramMath.Hmac(algorithm, salted, "Server Key"u8), authMessage);
        return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(clientKey)}");
    }

    public bool VerifySuccess(byte[]? additionalData) =>
        additionalData is not null && _expectedServerSignature is not null &&
        Encoding.UTF8.GetString(additionalData) == "v=" + Convert.ToBase64String(_expectedServerSignature);
}
