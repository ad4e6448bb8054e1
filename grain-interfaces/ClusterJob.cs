
namespace Mmss.GrainInterfaces;

/// <summary>Runs a periodic job's tick only in the process holding the job's cluster lease, so it runs once per cluster.</summary>
public static class ClusterJob
{
    /// <summary>True when this process (<paramref name="holder"/>) should run the job's tick now.</summary>
    public static Task<bool> IsMineAsync(IGrainFactory grains, string job, string holder, TimeSpan period) =>
        // The lease outlives two missed ticks so that a slow tick does not hand the job to another process midway.
        grains.GetGrain<IClusterLeaseGrain>(job).TryAcquireAsync(holder, period * 3);

    /// <summary>A name for this process among the lease holders.</summary>
    public static string ProcessHolder { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
