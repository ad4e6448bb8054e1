using System.Buffers;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Xml;

namespace Mmss.Gateway.Messaging;

/// <summary>
/// Writes a presence update as the &lt;presence/&gt; a client expects (RFC 6121 §4): from the full JID of the resource,
/// with the domain of the stream it is written to, its children copied as they were announced.
/// </summary>
public static class PresenceRenderer
{
    public static void Write(IBufferWriter<byte> output, PresenceUpdate presence, string recipientFullJid, string domain)
    {
        XmlWriter.WriteRaw(output, "<presence from='"u8);
        XmlWriter.WriteEscaped(output, presence.Udn, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "@"u8);
        XmlWriter.WriteEscaped(output, domain, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "/"u8);
        XmlWriter.WriteEscaped(output, presence.Resource, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "' to='"u8);
        XmlWriter.WriteEscaped(output, recipientFullJid, escapeQuotes: true);
        XmlWriter.WriteRaw(output, presence.Available ? "'"u8 : "' type='unavailable'"u8);
        if (presence.Payload is not { Length: > 0 } payload)
        {
            XmlWriter.WriteRaw(output, "/>"u8);
            return;
        }
        XmlWriter.WriteRaw(output, ">"u8);
        XmlWriter.WriteRaw(output, payload);
        XmlWriter.WriteRaw(output, "</presence>"u8);
    }
}
