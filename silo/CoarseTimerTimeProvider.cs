namespace Mmss.Silo;

/// <summary>
/// The system clock, whose periodic timers fire no more often than <see cref="MinimumPeriod"/>. For the embedded
/// silo's membership services: Orleans samples thread-pool stalls every 100 ms there, for judging probes of other silos
/// (a silo that stalled itself should not vote others dead), and the single silo of embedded mode probes nobody, while
/// ten timer wake-ups a second (and a pool thread woken for each) were a good part of the server's CPU at rest.
/// </summary>
public sealed class CoarseTimerTimeProvider(TimeSpan minimumPeriod) : TimeProvider
{
    /// <summary>
    /// Orleans' stall detector still expects its 100-ms cadence and counts every gap past it as a stall, warning at one
    /// second ("Thread Pool execution stalled", local health degraded). With ticks 1 s apart a timer 0.1 s late under
    /// load was enough for that warning; 0.5 s apart it takes a real delay of 0.6 s or more.
    /// </summary>
    public static readonly TimeSpan EmbeddedMinimumPeriod = TimeSpan.FromMilliseconds(500);

    public TimeSpan MinimumPeriod { get; } = minimumPeriod;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero && period < MinimumPeriod) period = MinimumPeriod;
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
