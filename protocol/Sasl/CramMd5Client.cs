using System.Security.Cryptography;
using System.Text;

namespace Mmss.Protocol.Sasl;

public sealed class CramMd5Client(string username, string password) : ISaslClientMechanism
{
    public string Name => "CRAM-MD5";

    public byte[]? InitialResponse() => null;

    public byte[] Respond(byte[] challenge) =>
        Encoding.UTF8.GetBytes(username + " " + Convert.ToHexStringLower(HMACMD5.HashData(Encoding.UTF8.GetBytes(password), challenge)));

    public bool VerifySuccess(byte[]? additionalData) => true;
}
