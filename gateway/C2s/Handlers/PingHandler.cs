using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>XEP-0199: a terminal's ping to the MMSS is answered with an empty result (spec 7.3).</summary>
public sealed class PingHandler : IIqHandler
{
    public string Element => "ping";
    public string Namespace => Namespaces.Ping;
    public string? Feature => Namespaces.Ping;
    public bool RequiresBoundSession => false;

    public ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload) =>
        connection.SendAsync(connection.ResultFor(iq));
}
