using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>
/// XEP-0078 legacy authentication (jabber:iq:auth), for terminals built before SASL, over TLS only. A plaintext
/// password is checked against the stored SCRAM-SHA-256 key as PLAIN is. A digest (hex SHA-1 of stream id and
/// password) needs the password itself, kept only for users provisioned with legacyDigest (README "Provisioning"), so
/// it is offered only under Mmss:C2s:LegacyAuthDigest; for anyone else it fails as a wrong password would.
/// A login binds the resource at once (XEP-0078 §3); throttling and failure counts are the SASL ones.
/// </summary>
public sealed class LegacyAuthHandler : IIqHandler
{
    public string Element => "query";
    public string Namespace => Namespaces.IqAuth;
    public string? Feature => null;
    public bool RequiresBoundSession => false;
    public bool AllowedBeforeAuthentication => true;

    public async ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload)
    {
        if (!connection.Services.Options.LegacyAuth)
        {
            await connection.SendAsync(StanzaErrors.ServiceUnavailable(iq, connection.Domain));
            return;
        }
        if (connection.Udn is not null)
        {
            await Refuse(connection, iq, "not-allowed", "cancel", "already authenticated");
            return;
        }
        if (!connection.CredentialsMayTravel)
        {
            // XEP-0078 §3 and §8: a plaintext password only over an encrypted stream.
            await Refuse(connection, iq, "not-allowed", "cancel", "negotiate TLS first");
            return;
        }
        var request = LegacyAuthRequest.Parse(payload);
        if (iq.Attribute("type") == "get")
        {
            // XEP-0078 §3.1: the fields a login needs. The user is not known yet, so <digest/> is offered to all when
            // enabled; a user without the kept password is refused at the set.
            var result = connection.ResultFor(iq);
            var fields = result.AddElement("query", Namespaces.IqAuth);
            fields.AddElement("username", text: request.Username ?? "");
            fields.AddElement("password");
            if (connection.Services.Options.LegacyAuthDigest) fields.AddElement("digest");
            fields.AddElement("resource");
            await connection.SendAsync(result);
            return;
        }
        if (!request.IsComplete)
        {
            await Refuse(connection, iq, "not-acceptable", "modify", "username, password and resource are required");
            return;
        }
        if (request.Password is null && !connection.Services.Options.LegacyAuthDigest)
        {
            await Refuse(connection, iq, "not-acceptable", "modify", "digest authentication is not offered; send the password");
            return;
        }
        if (!BindHandler.IsValidResource(request.Resource!))
        {
            await connection.SendAsync(StanzaErrors.BadRequest(iq, connection.Domain));
            return;
        }
        if (await connection.IsAddressThrottledAsync())
        {
            await Refuse(connection, iq, "resource-constraint", "wait", "too many failures from this address");
            return;
        }
        var credentials = await connection.Services.Credentials.LookupAsync(request.Username!);
        if (credentials is null || !Verify(connection, credentials, request))
        {
            connection.Services.Logger.LogWarning("Legacy authentication failed for {Username} from {Address} on connection {ConnectionId}",
                request.Username, connection.RemoteAddress, connection.Id);
            await Refuse(connection, iq, "not-authorized", "auth", null);
            await connection.CountAuthFailureAsync(credentials?.Username ?? request.Username, "iq-auth", "not-authorized");
            return;
        }
        if (await connection.IsUserThrottledAsync(credentials.Username))
        {
            await Refuse(connection, iq, "resource-constraint", "wait", "too many recent failures for this user");
            return;
        }
        connection.Authenticated(credentials.Username, "iq-auth");
        connection.Bind(request.Resource!);
        await connection.SendAsync(connection.ResultFor(iq));
        await connection.Session!.AttachToUserAsync();
    }

    /// <summary>The password when one is sent (it wins over a digest sent beside it), else the digest.</summary>
    private static bool Verify(C2sConnection connection, SaslCredentials credentials, LegacyAuthRequest request) =>
        request.Password is { } password
            ? SaslCredentialDeriver.Verify(credentials, password)
            : credentials.LegacyDigestPassword is { } kept && LegacyAuthDigest.Verify(connection.StreamId, kept, request.Digest!);

    private static ValueTask Refuse(C2sConnection connection, XmlElement iq, string condition, string type, string? text) =>
        connection.SendAsync(StanzaErrors.Reply(iq, condition, type, connection.Domain, text));
}
