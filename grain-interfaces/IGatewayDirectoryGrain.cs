namespace Mmss.GrainInterfaces;

/// <summary>
/// Gateways that hold sessions, each refreshing its entry on a timer (the GPSTracker HubListGrain pattern). A gateway
/// that stops refreshing for Mmss:Mailbox:GatewayExpirySeconds, or that left, is counted gone and its sessions offline.
/// </summary>
public interface IGatewayDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Marks the gateway alive now; false when it had been counted gone (its sessions forgotten by user grains).</summary>
    Task<bool> RefreshAsync(string gatewayId);

    /// <summary>The gateway stopped on purpose: gone at once.</summary>
    Task RemoveAsync(string gatewayId);

    /// <summary>Gateways counted gone. A gateway the directory never saw is not in it: it has just registered.</summary>
    Task<string[]> GetGoneGatewaysAsync();
}
