namespace Mmss.GrainInterfaces;

/// <summary>
/// Gateways that hold sessions, each refreshing its entry on a timer (the GPSTracker HubListGrain pattern). A gateway
/// that stops refreshing is counted gone and its sessions offline.
/// </summary>
public interface IGatewayDirectoryGrain : IGrainWithIntegerKey
{
    Task RefreshAsync(string gatewayId);

    Task RemoveAsync(string gatewayId);

    Task<string[]> GetLiveGatewaysAsync();
}
