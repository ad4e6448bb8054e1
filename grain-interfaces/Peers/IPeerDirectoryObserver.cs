namespace Mmss.GrainInterfaces.Peers;

/// <summary>A process (silo or gateway) that routes by the peer table: told of every change of the peer directory.</summary>
public interface IPeerDirectoryObserver : IGrainObserver
{
    Task PeersChangedAsync(PeerDirectorySnapshot snapshot);
}
