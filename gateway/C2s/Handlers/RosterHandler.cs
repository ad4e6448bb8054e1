using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>Roster get (RFC 6121 §2.2) answered with an empty roster: an MMSS has no contact lists, but Smack asks at login.</summary>
public sealed class RosterHandler : IIqHandler
{
    public string Element => "query";
    public string Namespace => Namespaces.Roster;
    public string? Feature => null;

    public ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload)
    {
        if (iq.Attribute("type") != "get") return connection.SendAsync(StanzaErrors.Reply(iq, "not-allowed", "cancel", connection.Domain));
        var result = connection.ResultFor(iq);
        result.AddElement("query", Namespaces.Roster);
        return connection.SendAsync(result);
    }
}
