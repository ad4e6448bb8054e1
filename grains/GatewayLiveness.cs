using System.Collections.Concurrent;

namespace Mmss.Grains;

/// <summary>
/// This silo's copy of the gateways counted gone, refreshed from the directory grain every quarter of the expiry
/// period (silo/GatewayLivenessRefresher). User grains consult it before every push, without a grain call per message.
/// </summary>
public sealed class GatewayLiveness(TimeProvider time)
{
    private volatile HashSet<string> _gone = new(StringComparer.Ordinal);

    /// <summary>When a gateway was last seen alive here (a session attached through it) after being counted gone.</summary>
    private readonly ConcurrentDictionary<string, long> _revived = new(StringComparer.Ordinal);

    public bool IsGone(string gatewayId) => _gone.Contains(gatewayId);

    /// <summary>
    /// A session just attached through this gateway, so it is alive whatever the last copy of the directory says: a
    /// gateway that was counted gone refreshes and re-attaches its sessions before this silo's next copy shows it.
    /// </summary>
    public void SeenAlive(string gatewayId)
    {
        if (!_gone.Contains(gatewayId)) return;
        _revived[gatewayId] = time.GetTimestamp();
        var gone = new HashSet<string>(_gone, StringComparer.Ordinal);
        gone.Remove(gatewayId);
        _gone = gone;
    }

    /// <summary>
    /// The directory's list, read starting at <paramref name="readStartedAt"/> (a timestamp of the same clock); returns
    /// the gateways this copy counts gone and the last one did not.
    /// </summary>
    public IReadOnlyList<string> Update(IEnumerable<string> gone, long readStartedAt)
    {
        var next = new HashSet<string>(StringComparer.Ordinal);
        foreach (var gatewayId in gone)
        {
            // A copy read before the gateway came back must not count it gone again.
            if (_revived.TryGetValue(gatewayId, out var revivedAt) && revivedAt >= readStartedAt) continue;
            next.Add(gatewayId);
        }
        foreach (var (gatewayId, revivedAt) in _revived)
        {
            if (revivedAt < readStartedAt) _revived.TryRemove(gatewayId, out _);
        }
        var newlyGone = next.Where(g => !_gone.Contains(g)).ToArray();
        _gone = next;
        return newlyGone;
    }
}
