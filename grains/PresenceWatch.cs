using System.Collections.Concurrent;

namespace Mmss.Grains;

/// <summary>
/// Which users of this silo have announced presence through which gateway. When a gateway is counted gone, the silo
/// tells those users' grains (silo/GatewayLivenessRefresher), and their contacts learn the sessions went unavailable:
/// one list per silo instead of a timer per online user, which at rest cost every grain a turn every few seconds.
/// An entry left behind by a grain that moved or ended only costs that grain one extra call when the gateway dies.
/// </summary>
public sealed class PresenceWatch
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _usersByGateway = new(StringComparer.Ordinal);

    public void Watch(string gatewayId, string udn) =>
        _usersByGateway.GetOrAdd(gatewayId, static _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(udn, 0);

    public void Unwatch(string gatewayId, string udn)
    {
        if (_usersByGateway.TryGetValue(gatewayId, out var users)) users.TryRemove(udn, out _);
    }

    /// <summary>The users watching a gateway now gone; the list is dropped with it.</summary>
    public IReadOnlyCollection<string> TakeUsersOf(string gatewayId) =>
        _usersByGateway.TryRemove(gatewayId, out var users) ? users.Keys.ToArray() : [];
}
