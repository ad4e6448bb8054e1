using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>The gateways alive now, each refreshed on its own timer; in memory, since gateways re-register within a period.</summary>
public sealed class GatewayDirectoryGrain(IOptions<MailboxOptions> options, TimeProvider time) : Grain, IGatewayDirectoryGrain
{
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = [];

    public Task RefreshAsync(string gatewayId)
    {
        _lastSeen[gatewayId] = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string gatewayId)
    {
        _lastSeen.Remove(gatewayId);
        return Task.CompletedTask;
    }

    public Task<string[]> GetLiveGatewaysAsync()
    {
        var cutoff = time.GetUtcNow().AddSeconds(-options.Value.GatewayExpirySeconds);
        return Task.FromResult(_lastSeen.Where(g => g.Value >= cutoff).Select(g => g.Key).ToArray());
    }
}
