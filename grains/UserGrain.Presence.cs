using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// Presence (RFC 6121 §4) among the members of the user's talk groups: a provisioned roster, every contact subscribed
/// both ways. Each session's presence is kept with the session (so it is stored, and survives gateways and silos);
/// broadcasts run one after another, off the grain's turns, so that presence never delays or reorders messages.
/// </summary>
public sealed partial class UserGrain
{
    private Task _presenceBroadcasts = Task.CompletedTask;
    private PresenceOptions? _presenceOptions;

    /// <summary>
    /// Presence received while a broadcast gathers contacts' current presence for a new session: fresher than what
    /// the contact answered, and already pushed, so the gathered one must not follow it and undo it.
    /// </summary>
    private HashSet<(string Udn, string Resource)>? _receivedDuringProbe;

    // Resolved here rather than in the constructor: presence is a concern of this part of the class only.
    private PresenceOptions PresenceSettings =>
        _presenceOptions ??= ServiceProvider.GetRequiredService<IOptions<PresenceOptions>>().Value;

    public Task SetPresenceAsync(string sessionId, PresenceUpdate presence)
    {
        var sessions = LiveSessions();
        var index = sessions.FindIndex(s => s.SessionId == sessionId);
        if (index < 0) return Task.CompletedTask;
        var before = sessions[index];
        // Unavailable from a session that never was available changes nothing (RFC 6121 §4.5.2).
        if (!presence.Available && before.Presence is null) return Task.CompletedTask;
        var session = before with { Presence = presence.Available ? presence : null };
        sessions[index] = session;
        WriteSessionsBehind();
        var initial = presence.Available && before.Presence is null;
        logger.LogDebug("{Udn}: session {SessionId} is {State}", Udn, sessionId, presence.Available ? initial ? "available" : "available (changed)" : "unavailable");
        Broadcast(presence, initial ? session : null);
        if (presence.Available) WatchPresence();
        return Task.CompletedTask;
    }

    public Task<PresenceUpdate[]> ReceivePresenceAsync(PresenceUpdate presence, bool probe)
    {
        List<PresenceUpdate>? current = null;
        PresenceUpdate[]? pushed = null;
        // Read only, no LiveSessions(): this call interleaves with turns that may be writing the sessions.
        foreach (var session in state.State.Sessions)
        {
            if (session.Presence is not { } own || gateways.IsGone(session.GatewayId)) continue;
            PushPresence(session, pushed ??= [presence]);
            if (probe) (current ??= []).Add(own);
        }
        _receivedDuringProbe?.Add((presence.Udn, presence.Resource));
        // No resource available: no answer, which a client takes as offline (RFC 6121 §4.3.2 lets a server stay silent).
        return Task.FromResult(current?.ToArray() ?? []);
    }

    public async Task<bool> IsContactAsync(string udn) => udn != Udn && (await ContactsAsync()).Contains(udn);

    /// <summary>Sessions that end with their presence announced go unavailable, from their full JIDs (RFC 6121 §4.5.2).</summary>
    private void BroadcastUnavailable(IEnumerable<SessionHandle> ended)
    {
        foreach (var session in ended)
        {
            if (session.Presence is { } presence) Broadcast(presence with { Available = false, Payload = null }, newcomer: null);
        }
    }

    /// <summary>Each broadcast starts when the one before it is done, so that every contact sees this user's changes in order.</summary>
    private void Broadcast(PresenceUpdate presence, SessionHandle? newcomer) =>
        _presenceBroadcasts = BroadcastAfterAsync(_presenceBroadcasts, presence, newcomer);

    private async Task BroadcastAfterAsync(Task previous, PresenceUpdate presence, SessionHandle? newcomer)
    {
        await previous;
        try
        {
            await BroadcastAsync(presence, newcomer);
        }
        catch (Exception e)
        {
            _receivedDuringProbe = null;
            logger.LogWarning("{Udn}: presence of {Resource} could not be broadcast: {Reason}", Udn, presence.Resource, e.Message);
        }
    }

    private async Task BroadcastAsync(PresenceUpdate presence, SessionHandle? newcomer)
    {
        // RFC 6121 §4.2.2, §4.4.2: to every available resource of the user, the one that sent it included; a new one
        // learns the others'.
        var current = new List<PresenceUpdate>();
        PresenceUpdate[] pushed = [presence];
        foreach (var session in state.State.Sessions)
        {
            if (session.Presence is not { } own || gateways.IsGone(session.GatewayId)) continue;
            PushPresence(session, pushed);
            if (newcomer is not null && session.SessionId != newcomer.SessionId) current.Add(own);
        }
        if (newcomer is not null) _receivedDuringProbe = [];
        var contacts = await ContactsAsync();
        foreach (var batch in contacts.Chunk(PresenceSettings.FanOutConcurrency))
        {
            var answers = await Task.WhenAll(batch.Select(contact => ReceiveAtContactAsync(contact, presence, probe: newcomer is not null)));
            foreach (var answer in answers) current.AddRange(answer);
        }
        // What probes of every contact would bring (RFC 6121 §4.3.2), for the session that just became available.
        if (newcomer is not null)
        {
            var received = _receivedDuringProbe!;
            _receivedDuringProbe = null;
            current.RemoveAll(p => received.Contains((p.Udn, p.Resource)));
            if (current.Count > 0) PushPresence(newcomer, current.ToArray());
        }
        logger.LogDebug("{Udn}: presence of {Resource} sent to {Count} contacts", Udn, presence.Resource, contacts.Length);
    }

    private async Task<PresenceUpdate[]> ReceiveAtContactAsync(string contact, PresenceUpdate presence, bool probe)
    {
        try
        {
            return await GrainFactory.User(contact).ReceivePresenceAsync(presence, probe);
        }
        catch (Exception e)
        {
            logger.LogInformation("{Udn}: presence for contact {Contact} failed: {Reason}", Udn, contact, e.Message);
            return [];
        }
    }

    /// <summary>
    /// The members of this user's talk groups that carry presence (at most Mmss:Presence:MaxGroupMembers members): the
    /// relation is symmetric, so two users are each other's contacts or neither is.
    /// </summary>
    private async Task<string[]> ContactsAsync()
    {
        var gdns = await GrainFactory.GetGrain<IMembershipGrain>(Udn).GetGroupsAsync();
        if (gdns.Length == 0) return [];
        var limit = PresenceSettings.MaxGroupMembers;
        var groups = await Task.WhenAll(gdns.Select(gdn => GrainFactory.GetGrain<IGroupGrain>(gdn).GetMembersUpToAsync(limit)));
        var contacts = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var members in groups)
        {
            if (members is null || !members.Contains(Udn)) continue;
            foreach (var member in members)
            {
                if (member != Udn) contacts.Add(member);
            }
        }
        return contacts.ToArray();
    }

    private void PushPresence(SessionHandle session, PresenceUpdate[] presences)
    {
        try
        {
            session.Observer.PresenceAsync(session.SessionId, presences).Ignore();
        }
        catch (Exception e)
        {
            logger.LogDebug("{Udn}: presence push to session {SessionId} failed: {Reason}", Udn, session.SessionId, e.Message);
        }
    }

    /// <summary>
    /// Contacts must learn that a session went unavailable when its gateway dies, and no one else tells this grain: the
    /// silo's <see cref="PresenceWatch"/> lists the user under each gateway carrying an announced session, and the silo
    /// calls <see cref="EndSessionsOfGoneGatewaysAsync"/> when it counts one gone (within about 1.25 ×
    /// Mmss:Mailbox:GatewayExpirySeconds).
    /// </summary>
    private void WatchPresence()
    {
        foreach (var session in state.State.Sessions)
        {
            if (session.Presence is not null) Watch.Watch(session.GatewayId, Udn);
        }
    }

    /// <summary>Ended sessions' gateways stop listing this user once no announced session of it remains there.</summary>
    private void UnwatchPresence(IEnumerable<SessionHandle> ended)
    {
        foreach (var session in ended)
        {
            if (!state.State.Sessions.Any(s => s.GatewayId == session.GatewayId && s.Presence is not null)) Watch.Unwatch(session.GatewayId, Udn);
        }
    }

    private PresenceWatch? _watch;

    private PresenceWatch Watch => _watch ??= ServiceProvider.GetRequiredService<PresenceWatch>();

    public Task EndSessionsOfGoneGatewaysAsync()
    {
        var before = state.State.Sessions.Count;
        if (LiveSessions().Count != before) WriteSessionsBehind();
        return Task.CompletedTask;
    }
}
