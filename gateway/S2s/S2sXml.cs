using System.Buffers;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.S2s;

/// <summary>Writing on a server-to-server stream: the stream header, stanzas in jabber:server, dialback elements.</summary>
internal static class S2sXml
{
    /// <summary>
    /// RFC 6120 §4.7: a server stream in jabber:server with jabber:server:dialback declared as db (XEP-0220 §2.1.1), the
    /// receiving entity's header carrying the stream id.
    /// </summary>
    public static void WriteHeader(IBufferWriter<byte> output, string from, string? to, string? id)
    {
        XmlWriter.WriteRaw(output, "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='"u8);
        XmlWriter.WriteEscaped(output, from, escapeQuotes: true);
        if (to is not null)
        {
            XmlWriter.WriteRaw(output, "' to='"u8);
            XmlWriter.WriteEscaped(output, to, escapeQuotes: true);
        }
        if (id is not null)
        {
            XmlWriter.WriteRaw(output, "' id='"u8);
            XmlWriter.WriteEscaped(output, id, escapeQuotes: true);
        }
        XmlWriter.WriteRaw(output, "' version='1.0'>"u8);
    }

    /// <summary>
    /// Writes a stanza so that it lands in jabber:server: an element built or parsed in jabber:client (and its children in
    /// the same namespace) is written without xmlns and so inherits the stream's jabber:server (RFC 6120 §4.8.3).
    /// </summary>
    public static void WriteStanza(IBufferWriter<byte> output, XmlElement stanza) =>
        XmlWriter.Write(output, stanza, stanza.Namespace is Namespaces.Client or Namespaces.Server ? stanza.Namespace : Namespaces.Server);

    /// <summary>&lt;db:result/&gt; or &lt;db:verify/&gt; with the db prefix the headers declare, as XEP-0220's examples write them.</summary>
    public static void WriteDialback(IBufferWriter<byte> output, string name, string from, string to, string? id, string? type, string? key)
    {
        XmlWriter.WriteRaw(output, "<db:"u8);
        XmlWriter.WriteString(output, name);
        XmlWriter.WriteRaw(output, " from='"u8);
        XmlWriter.WriteEscaped(output, from, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "' to='"u8);
        XmlWriter.WriteEscaped(output, to, escapeQuotes: true);
        if (id is not null)
        {
            XmlWriter.WriteRaw(output, "' id='"u8);
            XmlWriter.WriteEscaped(output, id, escapeQuotes: true);
        }
        if (type is not null)
        {
            XmlWriter.WriteRaw(output, "' type='"u8);
            XmlWriter.WriteEscaped(output, type, escapeQuotes: true);
        }
        if (key is null)
        {
            XmlWriter.WriteRaw(output, "'/>"u8);
            return;
        }
        XmlWriter.WriteRaw(output, "'>"u8);
        XmlWriter.WriteEscaped(output, key, escapeQuotes: false);
        XmlWriter.WriteRaw(output, "</db:"u8);
        XmlWriter.WriteString(output, name);
        XmlWriter.WriteRaw(output, ">"u8);
    }

    /// <summary>The text of a &lt;stream:error/&gt;'s condition, e.g. "policy-violation".</summary>
    public static string? StreamErrorCondition(XmlElement error)
    {
        foreach (var child in error.Elements)
        {
            if (child.Namespace == Namespaces.StreamErrors && child.Name != "text") return child.Name;
        }
        return null;
    }

    public static bool IsStreamError(XmlElement element) => element.Name == "error" && element.Namespace == Namespaces.Streams;

    /// <summary>The domain part of a JID attribute, or null when it is missing or no JID.</summary>
    public static string? DomainOf(string? jid) => Jid.TryParse(jid, out var parsed) ? parsed.Domain : null;
}
