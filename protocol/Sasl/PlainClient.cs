using System.Text;

namespace Mmss.Protocol.Sasl;

public sealed class PlainClient(string username, string password) : ISaslClientMechanism
{
    public string Name => "PLAIN";

    public byte[]? InitialResponse() => Encoding.UTF8.GetBytes($"\0{username}\0{password}");

    public byte[] Respond(byte[] challenge) => InitialResponse()!;

    public bool VerifySuccess(byte[]? additionalData) => true;
}
