using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// In memory: if the silo holding it dies, the next asker gets the lease at once, and for at most one period the old
/// holder may run the job too. The jobs are idempotent, so that costs work, never data.
/// </summary>
public sealed class ClusterLeaseGrain(TimeProvider time) : Grain, IClusterLeaseGrain
{
    private string? _holder;
    private DateTimeOffset _until;

    public Task<bool> TryAcquireAsync(string holder, TimeSpan duration)
    {
        var now = time.GetUtcNow();
        if (_holder is not null && _holder != holder && now < _until) return Task.FromResult(false);
        (_holder, _until) = (holder, now + duration);
        return Task.FromResult(true);
    }
}
