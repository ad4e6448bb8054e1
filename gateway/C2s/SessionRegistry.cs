using System.Collections.Concurrent;

namespace Mmss.Gateway.C2s;

/// <summary>Bound sessions of this gateway by full JID. Several resources per UDN; one session per full JID.</summary>
public sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<string, C2sConnection> _byFullJid = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, C2sConnection> _bySessionId = new(StringComparer.Ordinal);

    /// <summary>Registers the session and returns the one it replaces on the same full JID, if any (RFC 6120 §7.7.2.2).</summary>
    public C2sConnection? Register(string fullJid, C2sConnection connection)
    {
        C2sConnection? previous = null;
        _bySessionId[connection.SessionId] = connection;
        _byFullJid.AddOrUpdate(fullJid, connection, (_, existing) =>
        {
            previous = existing;
            return connection;
        });
        return ReferenceEquals(previous, connection) ? null : previous;
    }

    public void Unregister(string fullJid, C2sConnection connection)
    {
        _byFullJid.TryRemove(new KeyValuePair<string, C2sConnection>(fullJid, connection));
        _bySessionId.TryRemove(connection.SessionId, out _);
    }

    public C2sConnection? FindBySessionId(string sessionId) => _bySessionId.GetValueOrDefault(sessionId);

    public bool IsBound(string fullJid) => _byFullJid.ContainsKey(fullJid);

    public int Count => _byFullJid.Count;
}
