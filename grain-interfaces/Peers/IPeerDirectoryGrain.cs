namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// The peers defined at run time (admin API, seed file), one for the cluster (key 0), stored. Every process that routes
/// keeps a copy in its <see cref="PeerTable"/>: a change is pushed to every listening process before the call that made
/// it returns, and processes also poll with the version they hold, which catches up whatever a push missed.
/// </summary>
public interface IPeerDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Every stored definition, secrets included: for the processes of this domain only, never shown.</summary>
    Task<PeerDirectorySnapshot> GetAsync();

    /// <summary>
    /// Registers (or renews) a process's listener, kept while renewed; answers the directory when it is newer than
    /// <paramref name="knownVersion"/>, else null.
    /// </summary>
    Task<PeerDirectorySnapshot?> ListenAsync(string processId, [Immutable] IPeerDirectoryObserver listener, long knownVersion);

    /// <summary>A process stopping on purpose.</summary>
    Task StopListeningAsync(string processId);

    /// <summary>Creates or replaces the peer of that domain; refused when its numbers overlap another stored peer's.</summary>
    Task<PeerPutOutcome> PutAsync(PeerRecord peer);

    /// <summary>Removes the peer; what its link still queues fails at once (FAIL 6 for an MMS). False when it was not stored.</summary>
    Task<bool> RemoveAsync(string domain);
}
