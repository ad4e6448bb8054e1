namespace Mmss.GrainInterfaces;

/// <summary>
/// Presence of a user's sessions among its contacts: the members of its talk groups (a provisioned roster, every
/// contact subscribed both ways). What each session announced is kept with the session in the user grain, so it
/// survives a gateway's or a silo's loss; broadcasts reach contacts' sessions through their gateways' observers.
/// </summary>
public interface IUserPresence : IGrainWithStringKey
{
    /// <summary>
    /// A session announced its presence (RFC 6121 §4.2, §4.4, §4.5). Returns once recorded; the broadcast to the
    /// user's available resources and its contacts, and for an initial presence the contacts' current presence back to
    /// the session (what probes would bring), follow without holding the grain.
    /// </summary>
    Task SetPresenceAsync(string sessionId, PresenceUpdate presence);

    /// <summary>
    /// Another user's presence for this user's available sessions (a contact's broadcast, or directed presence).
    /// With <paramref name="probe"/>, answers with the presence of this user's available resources. Interleaves: it
    /// only reads, and presence must never wait behind, or hold up, this user's messages.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<PresenceUpdate[]> ReceivePresenceAsync(PresenceUpdate presence, bool probe);

    /// <summary>Whether <paramref name="udn"/> is a presence contact of this user (shares a talk group small enough to carry presence).</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<bool> IsContactAsync(string udn);

    /// <summary>A gateway of one of this user's announced sessions was counted gone: those sessions end, contacts see them unavailable.</summary>
    Task EndSessionsOfGoneGatewaysAsync();
}
