using System.Globalization;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.Messaging;
using Mmss.Gateway.S2s;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Relay;

/// <summary>
/// What a peer MMSS sends over its authenticated link, turned into the same grain calls a terminal's stanzas make: an
/// MMS for a user here (stored, deduplicated by sender and id, delivered), an answer for an originator here, or an
/// ordinary message. The link acknowledges a stanza only after this completes, so nothing it acknowledged is lost. A peer
/// speaks only for the users it is home for: anything else is refused, and an MMS refused here goes back as FAIL.
/// </summary>
public sealed class RelayInbound(IGrainFactory grains, ServedDomains domains, ILogger<RelayInbound> logger) : IS2sInboundHandler
{
    public async ValueTask HandleAsync(Peer peer, XmlElement stanza, CancellationToken cancellationToken)
    {
        if (stanza.Name != "message" || stanza.Attribute("type") == "error") return;
        if (!Jid.TryParse(stanza.Attribute("from"), out var from) || !Jid.TryParse(stanza.Attribute("to"), out var to) ||
            from.Local is null || to.Local is null)
        {
            logger.LogInformation("Relay from {Peer}: message without a sender or recipient number dropped", peer.Domain);
            return;
        }
        if (!domains.IsServed(to.Domain))
        {
            logger.LogWarning("Relay from {Peer}: message for {To}, not a domain served here, refused", peer.Domain, to.Domain);
            return;
        }
        var id = stanza.Attribute("id");
        var properties = JiveProperties.Find(stanza);
        if (from.Local.Equals("ACK", StringComparison.OrdinalIgnoreCase) || from.Local.Equals("FAIL", StringComparison.OrdinalIgnoreCase))
        {
            await AnswerAsync(peer, id, to.Local, properties, from.Local);
            return;
        }
        if (!peer.Udns.Contains(from.Local))
        {
            logger.LogWarning("Relay from {Peer}: message from {Sender}, a number {Peer} is not home for, refused", peer.Domain, from.Local, peer.Domain);
            return;
        }
        if (properties is null)
        {
            var plain = new PlainMessage(id, from.ToString(), stanza.Attribute("type"), DeliveryRenderer.Payload(stanza));
            if (!await grains.User(to.Local).DeliverPlainAsync(plain))
                logger.LogInformation("Relay from {Peer}: message for unknown user {Recipient} dropped", peer.Domain, to.Local);
            return;
        }
        if (id is null)
        {
            logger.LogInformation("Relay from {Peer}: MMS from {Sender} without an id dropped", peer.Domain, from.Local);
            return;
        }
        var group = JiveProperties.Get(properties, "MsgGroup");
        var submission = new MmsSubmission(id, from.Local, to.Local, JiveProperties.Get(properties, "MsgType"), stanza.Attribute("type"),
            DeliveryRenderer.Payload(stanza), group,
            string.Equals(JiveProperties.Get(properties, "DeliveryReport"), "true", StringComparison.OrdinalIgnoreCase),
            JiveProperties.Get(properties, "attach"), JiveProperties.Is(properties, MmsPriority.Property, MmsPriority.Emergency));
        // Never relayed onwards (no peer table): an MMS from a peer is for a user or group here, or refused.
        var outcome = await MmsSubmitter.SubmitAsync(grains, submission);
        if (outcome.Accepted)
        {
            logger.LogDebug("Relay from {Peer}: MMS {MessageId} from {Sender} to {Recipient}: {Reason}", peer.Domain, id, from.Local, to.Local, outcome.Reason);
            return;
        }
        logger.LogInformation("Relay from {Peer}: MMS {MessageId} from {Sender} to {Recipient} refused: FAIL {Code} ({Reason})",
            peer.Domain, id, from.Local, to.Local, outcome.FailCode, outcome.Reason);
        await grains.Reference<IPeerLinkGrain>(peer.Domain).RelayAnswerAsync(from.Local, id, to.Local, FailType,
            outcome.FailCode.ToString(CultureInfo.InvariantCulture), group);
    }

    /// <summary>A member's answer to an MMS one of our users sent: to the originator's grain, or to the group's message grain.</summary>
    private const string AckType = "2";
    private const string FailType = "3";

    private async Task AnswerAsync(Peer peer, string? id, string originator, XmlElement? properties, string sender)
    {
        var answeredBy = JiveProperties.Get(properties, RelayStanzas.AnsweredBy);
        // A member of the peer's domain, or one of its groups (the aggregated answer of a group it is home for).
        if (id is null || answeredBy is null || !(peer.Udns.Contains(answeredBy) || peer.Gdns.Contains(answeredBy)))
        {
            logger.LogWarning("Relay from {Peer}: answer {MessageId} without an id or by {Member}, a number {Peer} is not home for, refused",
                peer.Domain, id, answeredBy, peer.Domain);
            return;
        }
        var isFail = sender.Equals("FAIL", StringComparison.OrdinalIgnoreCase);
        var msgType = JiveProperties.Get(properties, "MsgType") ?? (isFail ? FailType : AckType);
        var returnCode = JiveProperties.Get(properties, "ReturnCode");
        if (JiveProperties.Get(properties, "MsgGroup") is not null)
        {
            await grains.Reference<IMessageGrain>(MessageKey.For(originator, id)).AnswerAsync(answeredBy, msgType, returnCode);
            return;
        }
        await grains.User(originator).ReceiveAnswerAsync(id, msgType, returnCode);
    }
}
