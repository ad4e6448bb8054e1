using System.Buffers;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Messaging;

/// <summary>
/// Writes a delivery as the &lt;message/&gt; a terminal expects, straight into the connection's pipe: the original
/// payload bytes are copied, not re-parsed. Domains are this hop's (spec: each hop rewrites from/to).
/// </summary>
public static class DeliveryRenderer
{
    public static void Write(IBufferWriter<byte> output, Delivery delivery, string recipientUdn, string domain)
    {
        XmlWriter.WriteRaw(output, "<message"u8);
        if (delivery.MessageId.Length > 0) Attribute(output, " id='"u8, delivery.MessageId);
        if (delivery.From.Contains('@')) Attribute(output, " from='"u8, delivery.From);
        else
        {
            XmlWriter.WriteRaw(output, " from='"u8);
            XmlWriter.WriteEscaped(output, delivery.From, escapeQuotes: true);
            XmlWriter.WriteRaw(output, "@"u8);
            XmlWriter.WriteEscaped(output, domain, escapeQuotes: true);
            XmlWriter.WriteRaw(output, "'"u8);
        }
        XmlWriter.WriteRaw(output, " to='"u8);
        XmlWriter.WriteEscaped(output, recipientUdn, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "@"u8);
        XmlWriter.WriteEscaped(output, domain, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "'"u8);
        if (delivery.StanzaType is { } type) Attribute(output, " type='"u8, type);
        XmlWriter.WriteRaw(output, ">"u8);
        WriteContent(output, delivery);
        XmlWriter.WriteRaw(output, "</message>"u8);
    }

    /// <summary>A message with full addresses on both sides (server-to-server relay), the same content rules as a delivery.</summary>
    public static void WriteAddressed(IBufferWriter<byte> output, string? messageId, string from, string to, string? stanzaType,
        byte[]? payload, IReadOnlyList<KeyValuePair<string, string>>? properties)
    {
        XmlWriter.WriteRaw(output, "<message"u8);
        if (!string.IsNullOrEmpty(messageId)) Attribute(output, " id='"u8, messageId);
        Attribute(output, " from='"u8, from);
        Attribute(output, " to='"u8, to);
        if (stanzaType is not null) Attribute(output, " type='"u8, stanzaType);
        XmlWriter.WriteRaw(output, ">"u8);
        WriteContent(output, payload, properties);
        XmlWriter.WriteRaw(output, "</message>"u8);
    }

    private static ReadOnlySpan<byte> PropertiesEnd => "</properties>"u8;

    /// <summary>
    /// The payload, with the delivery's properties added: inside the sender's &lt;properties/&gt; when it has one
    /// (MsgGroup on a member's copy), else as a &lt;properties/&gt; of their own (notices).
    /// </summary>
    private static void WriteContent(IBufferWriter<byte> output, Delivery delivery) => WriteContent(output, delivery.Payload, delivery.Properties);

    private static void WriteContent(IBufferWriter<byte> output, byte[]? payloadBytes, IReadOnlyList<KeyValuePair<string, string>>? added)
    {
        var payload = payloadBytes is { } bytes ? bytes.AsSpan() : default;
        if (added is not { Count: > 0 } properties)
        {
            XmlWriter.WriteRaw(output, payload);
            return;
        }
        // The payload was written by our own writer, so the Jive element closes with exactly this tag.
        var end = payload.LastIndexOf(PropertiesEnd);
        if (end < 0)
        {
            XmlWriter.WriteRaw(output, payload);
            XmlWriter.WriteRaw(output, "<properties xmlns='http://www.jivesoftware.com/xmlns/xmpp/properties'>"u8);
            WriteProperties(output, properties);
            XmlWriter.WriteRaw(output, PropertiesEnd);
            return;
        }
        XmlWriter.WriteRaw(output, payload[..end]);
        WriteProperties(output, properties);
        XmlWriter.WriteRaw(output, payload[end..]);
    }

    /// <summary>Jive &lt;property/&gt; elements written directly: every notice has some, so no element tree is built.</summary>
    private static void WriteProperties(IBufferWriter<byte> output, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        foreach (var (name, value) in properties)
        {
            XmlWriter.WriteRaw(output, "<property><name>"u8);
            XmlWriter.WriteEscaped(output, name, escapeQuotes: false);
            XmlWriter.WriteRaw(output, "</name><value type='string'>"u8);
            XmlWriter.WriteEscaped(output, value, escapeQuotes: false);
            XmlWriter.WriteRaw(output, "</value></property>"u8);
        }
    }

    private static void Attribute(IBufferWriter<byte> output, ReadOnlySpan<byte> opening, string value)
    {
        XmlWriter.WriteRaw(output, opening);
        XmlWriter.WriteEscaped(output, value, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "'"u8);
    }

    /// <summary>The stanza's children as UTF-8 XML, carried through grains unchanged.</summary>
    public static byte[] Payload(XmlElement message)
    {
        // One buffer per thread for the writing, so that the only allocation is the stored array itself; writing never
        // yields. A buffer grown past a few pages by an unusual stanza is not kept.
        var buffer = t_payloadBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        try
        {
            WritePayload(buffer, message);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > MaxKeptPayloadBuffer) t_payloadBuffer = null;
        }
    }

    private const int MaxKeptPayloadBuffer = 16 * 1024;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_payloadBuffer;

    private static void WritePayload(ArrayBufferWriter<byte> buffer, XmlElement message)
    {
        foreach (var node in message.Nodes)
        {
            // Relative to the stanza's own namespace (jabber:client, or jabber:server from a peer): stored payloads are
            // rendered into client streams, where that namespace is the default.
            if (node is XmlElement child) XmlWriter.Write(buffer, child, message.Namespace);
            else if (!string.IsNullOrWhiteSpace((string)node)) XmlWriter.WriteEscaped(buffer, (string)node, escapeQuotes: false);
        }
    }
}
