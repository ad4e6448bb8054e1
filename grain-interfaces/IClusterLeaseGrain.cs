namespace Mmss.GrainInterfaces;

/// <summary>
/// Who runs a cluster-wide job (mailbox expiry sweep, attachment pruning, the seed file) now: every process asks at
/// each tick, one holder at a time gets it, and a holder that stops asking loses it when its lease runs out.
/// Keyed by the job's name.
/// </summary>
public interface IClusterLeaseGrain : IGrainWithStringKey
{
    /// <summary>True when <paramref name="holder"/> holds the lease for the next <paramref name="duration"/>.</summary>
    Task<bool> TryAcquireAsync(string holder, TimeSpan duration);
}
