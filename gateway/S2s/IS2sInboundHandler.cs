using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;

namespace Mmss.Gateway.S2s;

/// <summary>
/// Receives the stanzas of authenticated peers (implemented by the relay). One call per stanza, in stream order; the
/// stream counts the stanza as handled for XEP-0198 (&lt;a h/&gt;) only once the returned task completed successfully.
/// An <see cref="Mmss.Protocol.Xmpp.XmppStreamException"/> ends the stream with its condition; any other exception ends
/// it with internal-server-error.
/// </summary>
public interface IS2sInboundHandler
{
    /// <param name="stanza">in jabber:server; its 'from' domain is <paramref name="peer"/>'s, its 'to' domain one we serve</param>
    ValueTask HandleAsync(Peer peer, XmlElement stanza, CancellationToken cancellationToken);
}
