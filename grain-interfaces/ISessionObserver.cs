using Orleans.Concurrency;

namespace Mmss.GrainInterfaces;

/// <summary>One per gateway process: grains push deliveries through it to the sessions that gateway holds.</summary>
public interface ISessionObserver : IGrainObserver
{
    [OneWay]
    Task DeliverAsync(string sessionId, Delivery[] deliveries);
}
