using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Mmss.Silo.Events;

/// <summary>
/// The events waiting for the broker: a bounded channel that never makes a writer wait. When it is full (the broker is
/// down or slow) the oldest event is dropped and counted, with a log line at most every <see cref="LogEvery"/>.
/// </summary>
public sealed class EventQueue
{
    public static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private readonly Channel<MmssEvent> _channel;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private long _dropped;
    private long _droppedAtLastLog;
    private long _lastLogTimestamp;

    public EventQueue(int capacity, ILogger logger, TimeProvider? time = null)
    {
        Capacity = capacity;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _channel = Channel.CreateBounded<MmssEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        }, OnDropped);
    }

    public int Capacity { get; }

    /// <summary>Events dropped because the queue was full, since the start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int Count => _channel.Reader.Count;

    public ChannelReader<MmssEvent> Reader => _channel.Reader;

    /// <summary>Never waits and never throws: a full queue drops its oldest event instead.</summary>
    public void Enqueue(MmssEvent item)
    {
        try
        {
            if (_channel.Writer.TryWrite(item)) Diagnostics.SiloMetrics.EventQueued();
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "event {Type} not queued", item.TypeName);
        }
    }

    public void Complete() => _channel.Writer.TryComplete();

    private void OnDropped(MmssEvent dropped)
    {
        var total = Interlocked.Increment(ref _dropped);
        Diagnostics.SiloMetrics.EventDropped();
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastLogTimestamp);
        if (last != 0 && _time.GetElapsedTime(last, now) < LogEvery) return;
        if (Interlocked.CompareExchange(ref _lastLogTimestamp, now, last) != last) return;
        var since = total - Interlocked.Exchange(ref _droppedAtLastLog, total);
        _logger.LogWarning("MQTT event queue full ({Capacity} events): dropped the oldest; {Since} dropped since the last report, {Total} in all",
            Capacity, since, total);
    }
}
