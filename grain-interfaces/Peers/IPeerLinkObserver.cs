namespace Mmss.GrainInterfaces.Peers;

/// <summary>A gateway able to carry peer links: the peer link grain hands it what to send next.</summary>
public interface IPeerLinkObserver : IGrainObserver
{
    /// <summary>Send these, in order, to the peer; answer with <see cref="IPeerLinkGrain.SentAsync"/> or <see cref="IPeerLinkGrain.SendFailedAsync"/>.</summary>
    [Orleans.Concurrency.OneWay]
    Task SendAsync(string peerDomain, [Immutable] RelayItem[] items);
}
