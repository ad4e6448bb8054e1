using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Messages are routed without holding up the read loop: storing an MMS waits for a durable commit, and a terminal with
/// several MMS and answers in flight would otherwise get one of them stored per commit. The grain a message goes to
/// receives this connection's calls in the order they were read. Anything else the terminal sends (an iq, presence, the
/// stream's end) waits for the messages before it, so what the terminal observes is in-order processing (RFC 6120
/// §10.1): a ping answered means every MMS sent before it was stored or refused.
/// With XEP-0198 the same holds for the count of handled stanzas: a message is counted once it and every message before
/// it were routed to their end (a terminal told so may forget it), and an &lt;r/&gt; is answered once the messages before
/// it are counted, without holding up the ones after it.
/// </summary>
public sealed partial class C2sConnection
{
    private readonly Queue<Task> _messagesInFlight = new();
    private int _heldByServer;

    /// <summary>
    /// The read loop is waiting for this connection's messages to be stored (a store retried while a silo or the disk is
    /// down can take many seconds): bytes the terminal sent meanwhile — the answer to a ping — are not read yet, so its
    /// apparent silence is the server's doing and the keepalive leaves the connection be.
    /// </summary>
    public bool IsHeldByServer => Volatile.Read(ref _heldByServer) != 0;

    /// <summary>Routes a message and, with stream management, counts it as handled once it and those before it are.</summary>
    private ValueTask RouteMessageAsync(XmlElement message)
    {
        var routing = _services.Messages.RouteAsync(this, message);
        if (Sm is not { } sm) return routing.IsCompletedSuccessfully ? routing : InFlight(ObserveRoutingAsync(routing, null, null));
        var previous = sm.Counting;
        if (routing.IsCompletedSuccessfully && previous.IsCompleted)
        {
            routing.GetAwaiter().GetResult();
            sm.CountHandled();
            return ValueTask.CompletedTask;
        }
        var routed = ObserveRoutingAsync(routing, previous, sm);
        sm.Counting = routed;
        return InFlight(routed);
    }

    /// <summary>
    /// XEP-0198 §4: answers an &lt;r/&gt; with the count of stanzas handled before it — at once when nothing read before
    /// it is still being routed, else once that is done, without holding up the stanzas after it.
    /// </summary>
    private ValueTask AnswerAckRequestAsync(StreamManagement sm)
    {
        var previous = sm.Counting;
        if (previous.IsCompleted) return SendAckAsync(sm);
        var answered = AnswerAckRequestAfterAsync(previous, sm);
        sm.Counting = answered;
        return InFlight(answered);
    }

    private ValueTask SendAckAsync(StreamManagement sm) =>
        SendNonzaAsync(new XmlElement("a", Namespaces.StreamManagement).SetAttribute("h", Format(sm.Handled)));

    /// <summary>Never faults: the counts after it wait for it.</summary>
    private async Task AnswerAckRequestAfterAsync(Task previous, StreamManagement sm)
    {
        await previous;
        try
        {
            await SendAckAsync(sm);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            Log.LogDebug("Connection {ConnectionId}: an <a/> could not be written: {Reason}", Id, e.Message);
        }
    }

    private ValueTask InFlight(Task work)
    {
        while (_messagesInFlight.TryPeek(out var oldest) && oldest.IsCompleted) _messagesInFlight.Dequeue();
        _messagesInFlight.Enqueue(work);
        // Bounded: a terminal sending faster than its messages are stored waits here, as TCP then makes it wait.
        return _messagesInFlight.Count < _services.Options.MaxMessagesInFlight
            ? ValueTask.CompletedTask
            : HoldAsync(new ValueTask(_messagesInFlight.Dequeue()));
    }

    /// <summary>Awaits what holds the read loop, marked as <see cref="IsHeldByServer"/> meanwhile.</summary>
    private async ValueTask HoldAsync(ValueTask holding)
    {
        Interlocked.Increment(ref _heldByServer);
        try
        {
            await holding;
        }
        finally
        {
            Interlocked.Decrement(ref _heldByServer);
        }
    }

    /// <summary>
    /// Never faults: a routing's failure ends the stream here. A message routed is counted (XEP-0198) after the counts
    /// before it, also when only its outcome could not be written; one whose routing failed is not.
    /// </summary>
    private async Task ObserveRoutingAsync(ValueTask routing, Task? previous, StreamManagement? sm)
    {
        var routed = false;
        try
        {
            await routing;
            routed = true;
        }
        catch (XmppStreamException e)
        {
            Log.LogInformation("Stream {ConnectionId} from {Address} ({Udn}) ended with {Condition}: {Reason}",
                Id, RemoteAddress, Udn, e.Condition.ToElementName(), e.Message);
            await CloseAsync(e.Condition, e.Text);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            routed = true;
            Log.LogDebug("Connection {ConnectionId}: a message's outcome could not be written: {Reason}", Id, e.Message);
        }
        catch (Exception e)
        {
            Log.LogError(e, "Connection {ConnectionId} from {Address}: routing a message failed", Id, RemoteAddress);
            await CloseAsync(StreamErrorCondition.InternalServerError, null);
        }
        if (sm is null) return;
        if (previous is not null) await previous;
        if (routed) sm.CountHandled();
    }

    private async Task DrainMessagesInFlightAsync()
    {
        while (_messagesInFlight.TryDequeue(out var routing)) await HoldAsync(new ValueTask(routing));
    }
}
