using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Messages are routed without holding up the read loop: storing an MMS waits for a durable commit, and a terminal with
/// several MMS and answers in flight would otherwise get one of them stored per commit. The grain a message goes to
/// receives this connection's calls in the order they were read. Anything else the terminal sends (an iq, presence, the
/// stream's end) waits for the messages before it, so what the terminal observes is in-order processing (RFC 6120
/// §10.1): a ping answered means every MMS sent before it was stored or refused.
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

    private ValueTask RouteMessageAsync(XmlElement message)
    {
        var routing = _services.Messages.RouteAsync(this, message);
        // XEP-0198 counts a stanza once handled: a terminal told so must be able to forget it, so with stream management
        // each message is routed to its end before the next is read.
        if (routing.IsCompletedSuccessfully) return routing;
        if (Sm is not null) return HoldAsync(routing);
        while (_messagesInFlight.TryPeek(out var oldest) && oldest.IsCompleted) _messagesInFlight.Dequeue();
        _messagesInFlight.Enqueue(ObserveRoutingAsync(routing));
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

    private async Task ObserveRoutingAsync(ValueTask routing)
    {
        try
        {
            await routing;
        }
        catch (XmppStreamException e)
        {
            Log.LogInformation("Stream {ConnectionId} from {Address} ({Udn}) ended with {Condition}: {Reason}",
                Id, RemoteAddress, Udn, e.Condition.ToElementName(), e.Message);
            await CloseAsync(e.Condition, e.Text);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            Log.LogDebug("Connection {ConnectionId}: a message's outcome could not be written: {Reason}", Id, e.Message);
        }
        catch (Exception e)
        {
            Log.LogError(e, "Connection {ConnectionId} from {Address}: routing a message failed", Id, RemoteAddress);
            await CloseAsync(StreamErrorCondition.InternalServerError, null);
        }
    }

    private async Task DrainMessagesInFlightAsync()
    {
        while (_messagesInFlight.TryDequeue(out var routing)) await HoldAsync(new ValueTask(routing));
    }
}
