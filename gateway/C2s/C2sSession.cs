using Mmss.Gateway.Messaging;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// A bound session (full JID). Usually it lives and dies with its connection; with XEP-0198 resumption it waits,
/// connection-less, for the terminal to come back, queueing what arrives meanwhile.
/// </summary>
public sealed class C2sSession(C2sServices services, string udn, string domain, string resource, long connectionId, string address)
{
    private readonly TaskCompletionSource _attachedToUser = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _userKnowsSession;
    private int _ended;

    public string Udn { get; } = udn;

    public string Domain { get; } = domain;

    public string FullJid { get; } = $"{udn}@{domain}/{resource}";

    public string Resource { get; } = resource;

    /// <summary>
    /// What the terminal last announced (RFC 6121 §4), null before its initial presence and after unavailable. The user
    /// grain keeps it too; this copy goes with the session's handle when grain and gateway resynchronise.
    /// </summary>
    public PresenceUpdate? Presence { get; set; }

    /// <summary>
    /// How grains name this session when they push deliveries: unique in the cluster (this gateway process's identity
    /// and its connection number), since a user grain holds sessions of every gateway.
    /// </summary>
    public string SessionId { get; } = services.Gateway.Id + "/" + connectionId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The connection now carrying the session; null while it waits for resumption.</summary>
    public C2sConnection? Connection { get; private set; }

    public StreamManagement? StreamManagement { get; set; }

    /// <summary>When the connection was lost (timestamp); 0 while connected.</summary>
    public long DetachedAt { get; private set; }

    public bool HasEnded => Volatile.Read(ref _ended) != 0;

    public void AttachConnection(C2sConnection connection)
    {
        Connection = connection;
        DetachedAt = 0;
    }

    public void DetachConnection(C2sConnection connection, long now)
    {
        if (!ReferenceEquals(Connection, connection)) return;
        Connection = null;
        DetachedAt = now;
    }

    /// <summary>
    /// Tells the user grain where this session is and writes what waited for it. Pushes that arrive meanwhile are
    /// held until the backlog is written, so the terminal sees everything in order.
    /// </summary>
    public async Task AttachToUserAsync()
    {
        try
        {
            await AttachAndWriteBacklogAsync();
        }
        finally
        {
            _attachedToUser.TrySetResult();
        }
    }

    /// <summary>
    /// Grains and gateway may disagree about this session (see <see cref="Messaging.SessionResync"/>): the user grain
    /// re-attaches it if it forgot it and pushes again what waits if its activation is new.
    /// </summary>
    public Task ResyncAsync() =>
        HasEnded || !_userKnowsSession
            ? Task.CompletedTask
            : User.ResyncSessionAsync(Handle(Presence));

    private async Task AttachAndWriteBacklogAsync()
    {
        var backlog = await User.AttachSessionAsync(Handle());
        _userKnowsSession = true;
        if (backlog.Length > 0 && Connection is { } connection) await connection.WriteDeliveriesAsync(this, backlog);
    }

    private SessionHandle Handle(PresenceUpdate? presence = null) => new(services.Gateway.Id, SessionId, services.Registration.Reference, address, presence);

    /// <summary>
    /// Deliveries pushed by the user grain through this gateway's observer, written in the order they arrive by one
    /// writer, so concurrent observer calls cannot overtake each other at the write lock. Pushes queue here while the
    /// terminal reads slowly (the write waits for the socket); an emergency MMS goes ahead of the ordinary pushes
    /// still queued. A resynchronisation's backlog is one push: it counts as an emergency when it starts with one (the
    /// grain puts emergencies first), so its emergencies are not held behind ordinary pushes either.
    /// </summary>
    public Task PushAsync(Delivery[] deliveries) =>
        Enqueue(new QueuedPush(deliveries, null), emergency: deliveries is [{ Emergency: true }, ..]);

    /// <summary>Presence of other resources, in order with the ordinary deliveries; dropped while no connection carries the session.</summary>
    public Task PushPresenceAsync(PresenceUpdate[] presences) => Enqueue(new QueuedPush(null, presences), emergency: false);

    private Task Enqueue(QueuedPush push, bool emergency)
    {
        lock (_pushOrder)
        {
            (emergency ? _emergencyPushes ??= new() : _pushes ??= new()).Enqueue(push);
            if (_pushing) return Task.CompletedTask;
            _pushing = true;
        }
        return WriteQueuedPushesAsync();
    }

    /// <summary>One push: deliveries or presence, never both.</summary>
    private readonly record struct QueuedPush(Delivery[]? Deliveries, PresenceUpdate[]? Presences);

    private readonly Lock _pushOrder = new();
    // Made on the first push: an idle session (most of them) holds none.
    private Queue<QueuedPush>? _pushes;
    private Queue<QueuedPush>? _emergencyPushes;
    private bool _pushing;

    private async Task WriteQueuedPushesAsync()
    {
        while (true)
        {
            var next = default(QueuedPush);
            lock (_pushOrder)
            {
                if (_emergencyPushes?.TryDequeue(out next) != true && _pushes?.TryDequeue(out next) != true)
                {
                    _pushing = false;
                    return;
                }
            }
            try
            {
                if (next.Deliveries is { } deliveries) await PushInOrderAsync(deliveries);
                else if (next.Presences is { } presences && Connection is { } connection) await connection.WritePresencesAsync(this, presences);
            }
            catch (Exception e)
            {
                services.Logger.LogDebug("{FullJid}: a push failed: {Reason}", FullJid, e.Message);
            }
        }
    }

    private async Task PushInOrderAsync(Delivery[] deliveries)
    {
        await _attachedToUser.Task;
        if (Connection is { } connection)
        {
            await connection.WriteDeliveriesAsync(this, deliveries);
            return;
        }
        if (StreamManagement is { } sm && !HasEnded)
        {
            // Kept as unacknowledged stanzas: a resumed stream sends them; an expired session leaves them stored.
            foreach (var delivery in deliveries)
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
                DeliveryRenderer.Write(buffer, delivery, Udn, Domain);
                sm.Sent(buffer.WrittenSpan.ToArray(), delivery.Kind == DeliveryKind.Mms ? 0 : delivery.Seq);
            }
        }
    }

    public async Task ConfirmWrittenAsync(long[] seqs)
    {
        if (seqs.Length > 0) await User.ConfirmWrittenAsync(seqs);
    }

    /// <summary>A new session took this full JID: close this one's connection with conflict, or end it if it has none.</summary>
    public Task ReplaceAsync() =>
        Connection is { } connection
            ? connection.CloseAsync(StreamErrorCondition.Conflict, "replaced by a new session with the same resource")
            : EndAsync();

    /// <summary>The session is over: the registry forgets it and the user grain stops pushing to it.</summary>
    public async Task EndAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _attachedToUser.TrySetResult();
        services.Sessions.Unregister(this);
        if (!_userKnowsSession) return;
        try
        {
            await User.DetachSessionAsync(SessionId);
        }
        catch (Exception e)
        {
            services.Logger.LogWarning("{FullJid}: could not detach session {SessionId}: {Reason}", FullJid, SessionId, e.Message);
        }
    }

    /// <summary>The session's user grain; one reference for the session's life (making one per call was 1% of the CPU under load).</summary>
    public IUserGrain User => _user ??= services.Grains.User(Udn);

    private IUserGrain? _user;
}
