using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>PLAIN (RFC 4616): "authzid NUL authcid NUL passwd", checked against the stored SCRAM-SHA-256 key.</summary>
public sealed class PlainServer(CredentialLookup lookup) : ISaslServerMechanism
{
    public string Name => "PLAIN";

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientData, bool isInitial)
    {
        if (clientData.IsEmpty)
        {
            return isInitial ? SaslStep.Challenge([]) : SaslStep.Failed(SaslFailure.MalformedRequest, "empty PLAIN message");
        }
        string message;
        try
        {
            message = new UTF8Encoding(false, true).GetString(clientData.Span);
        }
        catch (DecoderFallbackException)
        {
            return SaslStep.Failed(SaslFailure.MalformedRequest, "PLAIN message is not UTF-8");
        }
        var parts = message.Split('\0');
        if (parts.Length != 3 || parts[1].Length == 0)
            return SaslStep.Failed(SaslFailure.MalformedRequest, "PLAIN message is not authzid NUL authcid NUL passwd");
        var (authzid, authcid, password) = (parts[0], parts[1], parts[2]);
        var credentials = await lookup(authcid);
        if (credentials is null) return SaslStep.Failed(SaslFailure.NotAuthorized, "unknown user", authcid);
        if (!SaslCredentialDeriver.Verify(credentials, password))
            return SaslStep.Failed(SaslFailure.NotAuthorized, "wrong password", credentials.Username);
        if (!SaslAuthzid.IsSameUser(authzid, credentials.Username))
            return SaslStep.Failed(SaslFailure.InvalidAuthzid, "authzid names another user", credentials.Username);
        return SaslStep.Succeeded(credentials.Username);
    }
}
