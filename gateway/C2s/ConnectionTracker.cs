using System.Collections.Concurrent;

namespace Mmss.Gateway.C2s;

/// <summary>Every open client connection of this gateway, bound or not: for limits, keepalive sweeps and shutdown.</summary>
public sealed class ConnectionTracker
{
    private readonly ConcurrentDictionary<long, C2sConnection> _connections = new();
    private long _nextId;

    public int Count => _connections.Count;

    public long NextId() => Interlocked.Increment(ref _nextId);

    public void Add(C2sConnection connection) => _connections[connection.Id] = connection;

    public void Remove(C2sConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>
    /// The open connections, enumerated live: neither a copy nor the dictionary's locks (its <c>Values</c> would take
    /// every lock and copy 19,000 references onto the large-object heap at each keepalive sweep). A connection opened or
    /// closed meanwhile may or may not be seen.
    /// </summary>
    public IEnumerable<C2sConnection> All()
    {
        foreach (var (_, connection) in _connections) yield return connection;
    }
}
