using System.Buffers;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.WebSocket;

/// <summary>
/// The two forms of one XMPP stream: RFC 7395's WebSocket framing (&lt;open/&gt;, &lt;close/&gt;, every message a
/// standalone document) and RFC 6120's TCP stream (a stream header, stanzas in its scope, &lt;/stream:stream&gt;),
/// which is what <see cref="C2s.C2sConnection"/> reads and writes.
/// </summary>
internal static class Rfc7395Framing
{
    public const string Namespace = "urn:ietf:params:xml:ns:xmpp-framing";

    /// <summary>RFC 7395 §3.1: the WebSocket subprotocol both sides must agree on.</summary>
    public const string Subprotocol = "xmpp";

    public static readonly byte[] StreamEnd = "</stream:stream>"u8.ToArray();

    public static readonly byte[] Close = "<close xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\"/>"u8.ToArray();

    /// <summary>The scope a client's element is read in: what the synthesized stream header declares.</summary>
    public static readonly NamespaceScope ClientScope = new(Namespaces.Client, ("stream", Namespaces.Streams));

    /// <summary>
    /// Whether a client message may be framing (&lt;open&gt;, &lt;close&gt;), which
    /// only then is parsed here: stanzas go to the connection as they are and are parsed once, there.
    /// </summary>
    public static bool MayBeFraming(ReadOnlySpan<byte> message)
    {
        var start = message.IndexOfAnyExcept(" \t\r\n"u8);
        if (start < 0) return false;
        var rest = message[start..];
        return StartsWithName(rest, "<open"u8) || StartsWithName(rest, "<close"u8);
    }

    private static bool StartsWithName(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name) =>
        text.StartsWith(name) && (text.Length == name.Length || text[name.Length] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'/' or (byte)'>');

    /// <summary>&lt;open to version xml:lang/&gt; → the stream header of RFC 6120 §4.7 (RFC 7395 §3.3.2).</summary>
    public static void WriteStreamHeader(IBufferWriter<byte> output, XmlElement open)
    {
        XmlWriter.WriteRaw(output, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"u8);
        WriteAttribute(output, "to", open.Attribute("to"));
        WriteAttribute(output, "from", open.Attribute("from"));
        WriteAttribute(output, "version", open.Attribute("version"));
        WriteAttribute(output, "xml:lang", open.Attribute("lang", Namespaces.Xml));
        XmlWriter.WriteRaw(output, ">"u8);
    }

    /// <summary>The server's stream header → &lt;open/&gt; with the same id, from, version and language (RFC 7395 §3.4).</summary>
    public static void WriteOpen(IBufferWriter<byte> output, XmlElement header)
    {
        XmlWriter.WriteRaw(output, "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\""u8);
        WriteAttribute(output, "from", header.Attribute("from"));
        WriteAttribute(output, "id", header.Attribute("id"));
        WriteAttribute(output, "version", header.Attribute("version"));
        WriteAttribute(output, "xml:lang", header.Attribute("lang", Namespaces.Xml));
        XmlWriter.WriteRaw(output, "/>"u8);
    }

    /// <summary>An &lt;open/&gt; for a stream error sent before the client opened one (RFC 6120 §4.9.1.1, RFC 7395 §3.4).</summary>
    public static void WriteBareOpen(IBufferWriter<byte> output, string domain)
    {
        XmlWriter.WriteRaw(output, "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" version=\"1.0\""u8);
        WriteAttribute(output, "from", domain);
        XmlWriter.WriteRaw(output, "/>"u8);
    }

    /// <summary>
    /// One element of the server's stream as a standalone document (RFC 7395 §3.3.3): every namespace declared,
    /// stream-level elements keep the stream: prefix with its declaration, as the RFC's examples show.
    /// </summary>
    public static void WriteElement(IBufferWriter<byte> output, XmlElement element)
    {
        if (element.Namespace != Namespaces.Streams)
        {
            XmlWriter.Write(output, element, inheritedNamespace: string.Empty);
            return;
        }
        XmlWriter.WriteRaw(output, "<stream:"u8);
        XmlWriter.WriteString(output, element.Name);
        XmlWriter.WriteRaw(output, " xmlns:stream=\"http://etherx.jabber.org/streams\">"u8);
        foreach (var node in element.Nodes)
        {
            if (node is XmlElement child) XmlWriter.Write(output, child, inheritedNamespace: string.Empty);
            else XmlWriter.WriteEscaped(output, (string)node, escapeQuotes: false);
        }
        XmlWriter.WriteRaw(output, "</stream:"u8);
        XmlWriter.WriteString(output, element.Name);
        XmlWriter.WriteRaw(output, ">"u8);
    }

    /// <summary>A stream error raised by the WebSocket layer itself, as the connection would write it (RFC 6120 §4.9).</summary>
    public static void WriteStreamError(IBufferWriter<byte> output, StreamErrorCondition condition, string text)
    {
        var error = new XmlElement("error", Namespaces.Streams);
        error.AddElement(condition.ToElementName(), Namespaces.StreamErrors);
        error.AddElement("text", Namespaces.StreamErrors, text);
        WriteElement(output, error);
    }

    private static void WriteAttribute(IBufferWriter<byte> output, string name, string? value)
    {
        if (value is null) return;
        XmlWriter.WriteRaw(output, " "u8);
        XmlWriter.WriteString(output, name);
        XmlWriter.WriteRaw(output, "=\""u8);
        XmlWriter.WriteEscaped(output, value, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "\""u8);
    }
}
