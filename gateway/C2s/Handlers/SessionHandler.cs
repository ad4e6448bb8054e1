using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>The legacy session iq (RFC 3921 §3) that older Smack terminals send after binding: a no-op result.</summary>
public sealed class SessionHandler : IIqHandler
{
    public string Element => "session";
    public string Namespace => Namespaces.Session;
    public string? Feature => null;
    public bool RequiresBoundSession => false;

    public ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload) =>
        connection.SendAsync(connection.ResultFor(iq));
}
