using Mmss.Gateway.Hosting;
using Mmss.Gateway.Messaging;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>
/// Presence from a bound session (RFC 6121 §4), against a roster that provisioning owns (every contact — a member of
/// one of the user's talk groups — subscribed both ways):
/// <list type="bullet">
/// <item>no 'to' (or the user's own bare JID): the session's presence, kept by its user grain and broadcast to the
/// user's available resources and its contacts; an initial one brings back the contacts' current presence;</item>
/// <item>directed presence to a user of a served domain: delivered to that user's available sessions (not remembered:
/// no unavailable follows at logout); to anything else (a group, another domain, a service), ignored;</item>
/// <item>subscribe: answered at once with subscribed from a contact, unsubscribed from anyone else; subscribed,
/// unsubscribe, unsubscribed and probe change nothing and are ignored (the roster is read-only; probes are the
/// server's business).</item>
/// </list>
/// </summary>
public sealed class PresenceHandler(ServedDomains domains, ILogger<PresenceHandler> logger)
{
    /// <summary>Announced presence (show, status, priority, extensions) is kept and sent to every contact: a status, not a message.</summary>
    public const int MaxPayloadBytes = 4096;

    public async ValueTask HandleAsync(C2sConnection connection, XmlElement presence)
    {
        try
        {
            await HandleTypeAsync(connection, connection.Session!, presence);
        }
        catch (Exception e) when (e is not (XmppStreamException or IOException or ObjectDisposedException))
        {
            // Presence is a courtesy: a silo that cannot be reached now must not end the terminal's stream.
            logger.LogWarning("{FullJid}: presence could not be handled: {Reason}", connection.FullJid, e.Message);
        }
    }

    private async ValueTask HandleTypeAsync(C2sConnection connection, C2sSession session, XmlElement presence)
    {
        var type = presence.Attribute("type");
        switch (type)
        {
            case null or "unavailable":
                await AnnounceAsync(connection, session, presence, available: type is null);
                break;
            case "subscribe":
                await AnswerSubscribeAsync(connection, session, presence);
                break;
            case "subscribed" or "unsubscribe" or "unsubscribed" or "probe" or "error":
                logger.LogDebug("{FullJid}: presence of type {Type} ignored (provisioned roster)", session.FullJid, type);
                break;
            default:
                await connection.SendAsync(StanzaErrors.BadRequest(presence, connection.Domain));
                break;
        }
    }

    private async ValueTask AnnounceAsync(C2sConnection connection, C2sSession session, XmlElement presence, bool available)
    {
        var payload = DeliveryRenderer.Payload(presence);
        if (payload.Length > MaxPayloadBytes)
        {
            await connection.SendAsync(StanzaErrors.Reply(presence, "policy-violation", "modify", connection.Domain));
            return;
        }
        var update = new PresenceUpdate(session.Udn, session.Resource, available, payload.Length > 0 ? payload : null);
        var to = presence.Attribute("to");
        if (to is null || IsOwnBareJid(to, session))
        {
            session.Presence = available ? update : null;
            await connection.Services.Grains.User(session.Udn).SetPresenceAsync(session.SessionId, update);
            return;
        }
        if (!Jid.TryParse(to, out var target) || target.Local is null || !domains.IsServed(target.Domain))
        {
            logger.LogDebug("{FullJid}: directed presence to {To} ignored", session.FullJid, to);
            return;
        }
        // RFC 6121 §4.6: directed presence; a user that does not exist gets nothing, silently.
        await connection.Services.Grains.User(target.Local).ReceivePresenceAsync(update, probe: false);
    }

    private async ValueTask AnswerSubscribeAsync(C2sConnection connection, C2sSession session, XmlElement presence)
    {
        if (!Jid.TryParse(presence.Attribute("to"), out var contact) || contact.Local is null || !domains.IsServed(contact.Domain))
        {
            await connection.SendAsync(StanzaErrors.Reply(presence, "item-not-found", "cancel", connection.Domain));
            return;
        }
        // RFC 6121 §3.1.3: the contact's answer, here the provisioning's: approved for a contact, denied otherwise.
        var approved = await connection.Services.Grains.User(session.Udn).IsContactAsync(contact.Local);
        var answer = new XmlElement("presence", Namespaces.Client)
            .SetAttribute("type", approved ? "subscribed" : "unsubscribed")
            .SetAttribute("from", $"{contact.Local}@{connection.Domain}")
            .SetAttribute("to", $"{session.Udn}@{session.Domain}");
        await connection.SendAsync(answer);
    }

    private static bool IsOwnBareJid(string to, C2sSession session) =>
        Jid.TryParse(to, out var jid) && jid.Resource is null && jid.Local == session.Udn && string.Equals(jid.Domain, session.Domain, StringComparison.OrdinalIgnoreCase);
}
