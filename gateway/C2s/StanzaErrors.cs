using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>Stanza error replies (RFC 6120 §8.3): the original stanza's addresses swapped, type="error".</summary>
public static class StanzaErrors
{
    /// <param name="text">why, for a person reading the client's log (RFC 6120 §8.3.2)</param>
    public static XmlElement Reply(XmlElement original, string condition, string errorType, string serverDomain, string? text = null)
    {
        var reply = new XmlElement(original.Name, Namespaces.Client)
            .SetAttribute("type", "error")
            .SetAttribute("id", original.Attribute("id"))
            .SetAttribute("from", original.Attribute("to") ?? serverDomain)
            .SetAttribute("to", original.Attribute("from"));
        var error = reply.AddElement("error").SetAttribute("type", errorType).Add(new XmlElement(condition, Namespaces.Stanzas));
        if (text is not null) error.AddElement("text", Namespaces.Stanzas, text);
        return reply;
    }

    public static XmlElement ServiceUnavailable(XmlElement original, string serverDomain) =>
        Reply(original, "service-unavailable", "cancel", serverDomain);

    public static XmlElement BadRequest(XmlElement original, string serverDomain) =>
        Reply(original, "bad-request", "modify", serverDomain);
}
