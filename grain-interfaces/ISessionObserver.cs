using Orleans.Concurrency;

namespace Mmss.GrainInterfaces;

/// <summary>One per gateway process: grains push deliveries through it to the sessions that gateway holds.</summary>
public interface ISessionObserver : IGrainObserver
{
    [OneWay]
    Task DeliverAsync(string sessionId, [Immutable] Delivery[] deliveries);

    /// <summary>Presence of other resources for the session (RFC 6121 §4), written in order with its deliveries; never stored.</summary>
    [OneWay]
    Task PresenceAsync(string sessionId, [Immutable] PresenceUpdate[] presences);
}
