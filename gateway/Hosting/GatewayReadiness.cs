namespace Mmss.Gateway.Hosting;

/// <summary>
/// Whether this gateway can serve: started (listeners open, cluster reached), still reaching the cluster (its last
/// directory refresh succeeded), and not stopping. /health/ready answers from it; a stop makes it false first, so a
/// load balancer stops sending terminals here before their streams are closed.
/// </summary>
public sealed class GatewayReadiness(TimeProvider time)
{
    private volatile bool _started;
    private volatile bool _stopping;
    private long _lastClusterContact;

    public bool IsStopping => _stopping;

    public void MarkStarted() => _started = true;

    public void MarkStopping() => _stopping = true;

    public void ClusterReached() => Interlocked.Exchange(ref _lastClusterContact, time.GetTimestamp());

    /// <summary>Ready when started, not stopping, and the cluster answered within <paramref name="contactWindow"/>.</summary>
    public bool IsReady(TimeSpan contactWindow) =>
        _started && !_stopping && time.GetElapsedTime(Interlocked.Read(ref _lastClusterContact)) <= contactWindow;
}
