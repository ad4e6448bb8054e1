using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

/// <summary>
/// A gateway as the grains see it: one recording observer, registered in the gateway directory under
/// <paramref name="id"/>; a user's session on it is named "s-" + the UDN.
/// </summary>
public sealed class TestGateway(IGrainFactory grains, string id)
{
    private ISessionObserver? _reference;

    public RecordingObserver Observer { get; } = new();

    /// <summary>A session of <paramref name="udn"/> attaches here; returns what waited for it.</summary>
    public async Task<Delivery[]> OnlineAsync(string udn) =>
        await grains.GetGrain<IUserGrain>(udn).AttachSessionAsync(new SessionHandle(id, "s-" + udn, await ReferenceAsync()));

    private async Task<ISessionObserver> ReferenceAsync()
    {
        if (_reference is not null) return _reference;
        _reference = grains.CreateObjectReference<ISessionObserver>(Observer);
        await grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync(id);
        return _reference;
    }
}
