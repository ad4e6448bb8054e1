using System.Collections.Concurrent;

namespace Mmss.Gateway.C2s;

/// <summary>Sessions of this gateway by full JID, by the id grains push to, and by stream-management id for resumption.</summary>
public sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<string, C2sSession> _byFullJid = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, C2sSession> _bySessionId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, C2sSession> _byResumptionId = new(StringComparer.Ordinal);

    /// <summary>Registers the session and returns the one it replaces on the same full JID, if any (RFC 6120 §7.7.2.2).</summary>
    public C2sSession? Register(C2sSession session)
    {
        C2sSession? previous = null;
        _bySessionId[session.SessionId] = session;
        _byFullJid.AddOrUpdate(session.FullJid, session, (_, existing) =>
        {
            previous = existing;
            return session;
        });
        return ReferenceEquals(previous, session) ? null : previous;
    }

    public void EnableResumption(C2sSession session, string resumptionId) => _byResumptionId[resumptionId] = session;

    public void Unregister(C2sSession session)
    {
        _byFullJid.TryRemove(new KeyValuePair<string, C2sSession>(session.FullJid, session));
        _bySessionId.TryRemove(new KeyValuePair<string, C2sSession>(session.SessionId, session));
        if (session.StreamManagement is { } sm) _byResumptionId.TryRemove(new KeyValuePair<string, C2sSession>(sm.Id, session));
    }

    /// <summary>The sessions, enumerated live (no copy, no locks; see <see cref="ConnectionTracker.All"/>).</summary>
    public IEnumerable<C2sSession> All()
    {
        foreach (var (_, session) in _bySessionId) yield return session;
    }

    public C2sSession? FindBySessionId(string sessionId) => _bySessionId.GetValueOrDefault(sessionId);

    public C2sSession? FindResumable(string resumptionId) => _byResumptionId.GetValueOrDefault(resumptionId);

    /// <summary>Sessions waiting for their terminal to resume them.</summary>
    public IEnumerable<C2sSession> Detached()
    {
        foreach (var (_, session) in _byResumptionId)
        {
            if (session.Connection is null) yield return session;
        }
    }
}
