using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mmss.Silo.Diagnostics;

/// <summary>
/// The silo's own instruments (meter <c>Mmss.Silo</c>): the storage writers' group commits and the MQTT event feed.
/// Static like the meters of the runtime, so that the write loops record with one call and no per-call allocation.
/// </summary>
public static class SiloMetrics
{
    public const string MeterName = "Mmss.Silo";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("mmss.storage.commit.duration", "s",
        "One group commit of the mailbox/grain-state writer, from its first statement to its commit",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] });
    private static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("mmss.storage.commit.batch", "{write}",
        "Writes made durable by one group commit",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
    private static readonly Counter<long> EventsPublished = Meter.CreateCounter<long>("mmss.events.published", "{event}",
        "MQTT events the broker accepted");
    private static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>("mmss.events.dropped", "{event}",
        "MQTT events dropped, oldest first, because the queue was full while the broker was down or slow");
    private static readonly UpDownCounter<long> EventsWaiting = Meter.CreateUpDownCounter<long>("mmss.events.queued", "{event}",
        "MQTT events raised and neither published nor dropped yet (queued, or being retried)");

    public static readonly KeyValuePair<string, object?> Sqlite = new("store", "sqlite");
    public static readonly KeyValuePair<string, object?> Postgres = new("store", "postgresql");

    /// <summary>A commit of <paramref name="writes"/> writes begun at <paramref name="startedAt"/> (a <see cref="Stopwatch"/> timestamp) succeeded.</summary>
    public static void Committed(KeyValuePair<string, object?> store, int writes, long startedAt)
    {
        CommitDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, store);
        BatchSize.Record(writes, store);
    }

    public static void EventQueued() => EventsWaiting.Add(1);

    public static void EventPublished()
    {
        EventsPublished.Add(1);
        EventsWaiting.Add(-1);
    }

    public static void EventDropped()
    {
        EventsDropped.Add(1);
        EventsWaiting.Add(-1);
    }
}
