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

    public ICollection<C2sConnection> Snapshot() => _connections.Values;
}
