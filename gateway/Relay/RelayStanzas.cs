using System.Buffers;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;
using Mmss.Gateway.Messaging;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Relay;

/// <summary>
/// How relay items look on the server-to-server stream (jabber:server). An MMS keeps its id, type, subject, properties
/// and body; only the domains change (spec: each hop rewrites them). An answer is the notice the originator will see,
/// from ACK/FAIL of the answering domain, with the vendor property <c>AnsweredBy</c> naming the member who answered and
/// <c>MsgGroup</c> when it answers a member's copy of a group MMS.
/// </summary>
public static class RelayStanzas
{
    public const string AnsweredBy = "AnsweredBy";

    private static readonly NamespaceScope ServerScope = new(Namespaces.Server);

    public static XmlElement Render(RelayItem item, string ownDomain, string peerDomain)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + (item.Payload?.Length ?? 0));
        switch (item.Kind)
        {
            case DeliveryKind.Notice:
            {
                var msgType = item.Properties?.FirstOrDefault(p => p.Key == "MsgType").Value;
                var from = (msgType == "3" ? "FAIL@" : "ACK@") + ownDomain;
                var properties = new List<KeyValuePair<string, string>>(item.Properties ?? []) { new(AnsweredBy, item.From) };
                DeliveryRenderer.WriteAddressed(buffer, item.MessageId, from, item.To + "@" + peerDomain, "chat", null, properties);
                break;
            }
            case DeliveryKind.Plain:
                DeliveryRenderer.WriteAddressed(buffer, item.MessageId, item.From, item.To + "@" + peerDomain, item.StanzaType, item.Payload, null);
                break;
            default:
                DeliveryRenderer.WriteAddressed(buffer, item.MessageId, item.From + "@" + ownDomain, item.To + "@" + peerDomain, item.StanzaType,
                    item.Payload, item.Properties);
                break;
        }
        return XmlParser.ParseStanza(buffer.WrittenSpan, ServerScope);
    }
}
