using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;
using Mmss.Grains.Diagnostics;
using Mmss.Grains.Events;

namespace Mmss.Grains;

/// <summary>Where the user's terminals are, and pushing deliveries to them.</summary>
public sealed partial class UserGrain
{
    // Null until first used: an idle terminal's grain holds no empty collections.
    private Dictionary<long, long>? _lastPushed;
    private IGrainTimer? _redeliveryTimer;

    public async Task<Delivery[]> AttachSessionAsync(SessionHandle session)
    {
        gateways.SeenAlive(session.GatewayId);
        var sessions = LiveSessions();
        sessions.RemoveAll(s => s.SessionId == session.SessionId);
        sessions.Add(session);
        WriteSessionsBehind();
        events.Presence(Udn, online: true, session.GatewayId, session.SessionId, session.Address, sessions.Count);
        var backlog = await BacklogAsync(await MailboxAsync());
        logger.LogDebug("{Udn}: session {SessionId} attached on {Gateway}, {Count} waiting", Udn, session.SessionId, session.GatewayId, backlog.Length);
        return backlog;
    }

    public async Task ResyncSessionAsync(SessionHandle session)
    {
        gateways.SeenAlive(session.GatewayId);
        // A mailbox not loaded yet means this activation has pushed nothing: the one before it may have died with
        // pushes in flight, so what waits is written again (a redelivery; the terminal's answer settles it once).
        var freshActivation = _mailbox is null;
        var sessions = LiveSessions();
        var known = sessions.Any(s => s.SessionId == session.SessionId);
        if (!known)
        {
            sessions.Add(session);
            WriteSessionsBehind();
            events.Presence(Udn, online: true, session.GatewayId, session.SessionId, session.Address, sessions.Count);
            // The gateway's handle carries what the session had announced: contacts told it went unavailable learn it is back.
            if (session.Presence is { } presence)
            {
                Broadcast(presence, session);
                WatchPresence();
            }
        }
        var mailbox = await MailboxAsync();
        if (known && !freshActivation) return;
        var reason = known ? "grain reactivated" : "session had been forgotten";
        if (!freshActivation)
        {
            await WriteBacklogAsync(mailbox, [session], reason);
            return;
        }
        // A new activation writes what waits to every live session: the one before it may have died with pushes in flight
        // to any of them, and their own resynchronisations find this activation no longer new.
        if (mailbox.Waiting.Any(e => e.Kind == DeliveryKind.Mms))
        {
            // Read again before writing (see ResyncPushAsync), once whatever the activation before this one was doing has settled.
            var delay = TimeSpan.FromMilliseconds(options.Value.ResyncSettleMilliseconds);
            this.RegisterGrainTimer(ResyncPushAsync, reason, new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan));
            return;
        }
        await WriteBacklogAsync(mailbox, LiveSessions().ToArray(), reason);
    }

    /// <summary>
    /// A new activation's backlog for the sessions it was told about, written once what it loaded has been read again.
    /// During the silos' agreement on a death this activation may live beside the one before it (whose directory entry
    /// died with the silo), which may be recording the terminal's ACK for an MMS this one loaded unanswered: written at
    /// once, the copy could reach the terminal after the originator had the ACK (RELIABILITY.md, finding 10). Messages
    /// stored meanwhile are pushed as they come, so after a silo's death an older MMS may follow a newer one.
    /// </summary>
    private async Task ResyncPushAsync(string reason, CancellationToken cancellationToken)
    {
        var mailbox = await MailboxAsync();
        var sessions = LiveSessions().ToArray();
        if (sessions.Length == 0) return;
        await WriteBacklogAsync(mailbox, sessions, reason, rereadAll: true);
    }

    private async Task WriteBacklogAsync(Mailbox mailbox, SessionHandle[] sessions, string reason, bool rereadAll = false)
    {
        var backlog = await BacklogAsync(mailbox, rereadAll);
        logger.LogInformation("{Udn}: {Sessions} session(s) resynchronised ({Reason}); {Count} waiting written again",
            Udn, sessions.Length, reason, backlog.Length);
        if (backlog.Length == 0) return;
        foreach (var target in sessions) target.Observer.DeliverAsync(target.SessionId, backlog).Ignore();
    }

    /// <summary>Everything waiting, in order; the MMS among it count as pushed now (the redelivery timer watches them).</summary>
    /// <param name="rereadAll">read every waiting MMS's row again first, not only those this activation wrote before</param>
    private async Task<Delivery[]> BacklogAsync(Mailbox mailbox, bool rereadAll = false)
    {
        if (rereadAll || _lastPushed is { Count: > 0 })
        {
            await RereadBeforeWritingAgainAsync(mailbox, mailbox.Waiting
                .Where(e => e.Kind == DeliveryKind.Mms && (rereadAll || _lastPushed!.ContainsKey(e.Seq))).ToArray());
        }
        var now = time.GetTimestamp();
        var live = LiveSessions().Count;
        var backlog = new List<Delivery>();
        foreach (var entry in mailbox.Waiting)
        {
            backlog.Add(entry.ToDelivery());
            if (entry.Kind != DeliveryKind.Mms) continue;
            (_lastPushed ??= [])[entry.Seq] = now;
            EnsureRedeliveryTimer(entry.Emergency);
            RaiseDelivered(entry, live);
        }
        backlog.AddRange(UnstoredWaiting());
        return backlog.ToArray();
    }

    public Task DetachSessionAsync(string sessionId)
    {
        var detached = state.State.Sessions.FirstOrDefault(s => s.SessionId == sessionId);
        if (state.State.Sessions.RemoveAll(s => s.SessionId == sessionId) == 0) return Task.CompletedTask;
        WriteSessionsBehind();
        RaiseOffline([detached!]);
        return Task.CompletedTask;
    }

    /// <summary>Presence events for sessions that ended; the user is offline once none remains.</summary>
    private void RaiseOffline(IEnumerable<SessionHandle> ended)
    {
        var remaining = state.State.Sessions.Count;
        foreach (var session in ended)
            events.Presence(Udn, online: remaining > 0, session.GatewayId, session.SessionId, session.Address, remaining);
        BroadcastUnavailable(ended);
        UnwatchPresence(ended);
    }

    /// <summary>
    /// Unanswered MMS whose "delivered" event this activation raised: redeliveries and resynchronisations push an MMS
    /// again, the fact happened once (in the events and in the metrics).
    /// </summary>
    // Null until first used: an idle terminal's grain holds no empty collections.
    private HashSet<long>? _deliveredRaised;

    private void RaiseDelivered(MailboxEntry entry, int sessions)
    {
        if (!(_deliveredRaised ??= []).Add(entry.Seq)) return;
        events.Delivered(entry.From, entry.MessageId, Udn, sessions);
        MmssMetrics.Delivered();
    }

    public Task<bool> HasLiveSessionFromAsync(string address) =>
        Task.FromResult(LiveSessions().Any(s => s.Address == address));

    /// <summary>
    /// The sessions on gateways not counted gone. Sessions of a dead gateway are dropped here, in memory only: the next
    /// write of the state, or the next activation, makes it durable, so a push costs no extra write.
    /// </summary>
    private List<SessionHandle> LiveSessions()
    {
        var sessions = state.State.Sessions;
        if (!AnyOnGoneGateway(sessions)) return sessions;
        var gone = sessions.Where(s => gateways.IsGone(s.GatewayId)).ToArray();
        sessions.RemoveAll(s => gone.Contains(s));
        logger.LogInformation("{Udn}: sessions on gateways counted gone are offline", Udn);
        RaiseOffline(gone);
        return sessions;
    }

    /// <summary>A plain loop: this runs before every push, where a capturing lambda would allocate each time.</summary>
    private bool AnyOnGoneGateway(List<SessionHandle> sessions)
    {
        foreach (var session in sessions)
        {
            if (gateways.IsGone(session.GatewayId)) return true;
        }
        return false;
    }

    public async Task ConfirmWrittenAsync(long[] seqs)
    {
        seqs = ConfirmUnstored(seqs);
        if (seqs.Length == 0) return;
        var mailbox = await MailboxAsync();
        // An MMS stays until its ACK/FAIL; notices and ordinary messages are done once written. Removed together, so that
        // the store's writer commits them in one batch rather than one commit after another.
        var done = seqs.Where(seq => mailbox.Get(seq) is { Kind: not DeliveryKind.Mms }).ToArray();
        if (done.Length == 0) return;
        var removals = Array.ConvertAll(done, seq => store.RemoveAsync(Udn, seq));
        try
        {
            await Task.WhenAll(removals);
        }
        finally
        {
            for (var i = 0; i < done.Length; i++)
            {
                if (removals[i].IsCompletedSuccessfully) mailbox.Remove(done[i]);
            }
        }
    }

    private void Push(MailboxEntry entry)
    {
        var sessions = LiveSessions();
        if (sessions.Count == 0) return;
        if (entry.Kind == DeliveryKind.Mms)
        {
            (_lastPushed ??= [])[entry.Seq] = time.GetTimestamp();
            EnsureRedeliveryTimer(entry.Emergency);
            RaiseDelivered(entry, sessions.Count);
        }
        var deliveries = new[] { entry.ToDelivery() };
        foreach (var session in sessions)
        {
            try
            {
                session.Observer.DeliverAsync(session.SessionId, deliveries).Ignore();
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "{Udn}: push to session {SessionId} on {Gateway} failed", Udn, session.SessionId, session.GatewayId);
            }
        }
    }

    /// <summary>Ticks at the emergency pace only while an emergency MMS waits: ordinary mail keeps the ordinary pace.</summary>
    private bool _redeliveryTimerFast;

    private void EnsureRedeliveryTimer(bool emergency)
    {
        if (_redeliveryTimer is not null && (_redeliveryTimerFast || !emergency)) return;
        var period = RedeliveryPeriod(emergency);
        if (_redeliveryTimer is null) _redeliveryTimer = this.RegisterGrainTimer(RedeliverAsync, period, period);
        else _redeliveryTimer.Change(period, period);
        _redeliveryTimerFast = emergency;
    }

    private TimeSpan RedeliveryPeriod(bool emergency) => TimeSpan.FromSeconds(Math.Max(1, RedeliverAfterSeconds(emergency) / 2.0));

    private int RedeliverAfterSeconds(bool emergency) =>
        emergency
            ? Math.Min(options.Value.EmergencyRedeliverAfterSeconds, options.Value.RedeliverAfterSeconds)
            : options.Value.RedeliverAfterSeconds;

    /// <summary>
    /// Writes again the MMS a live session has had for a while without answering (issue: redelivery). The timer runs
    /// only while pushed MMS wait for an answer: thousands of idle users must not each tick for nothing.
    /// </summary>
    private async Task RedeliverAsync(CancellationToken cancellationToken)
    {
        if (LiveSessions().Count == 0 || _mailbox is null || !_mailbox.Waiting.Any(e => e.Kind == DeliveryKind.Mms))
        {
            _redeliveryTimer?.Dispose();
            _redeliveryTimer = null;
            _redeliveryTimerFast = false;
            return;
        }
        var now = time.GetTimestamp();
        var after = RedeliverAfterSeconds(emergency: false) * time.TimestampFrequency;
        var emergencyAfter = RedeliverAfterSeconds(emergency: true) * time.TimestampFrequency;
        // Emergency MMS come first in Waiting: written again ahead of the ordinary ones.
        var due = _mailbox.Waiting
            .Where(e => e.Kind == DeliveryKind.Mms && !(_lastPushed?.TryGetValue(e.Seq, out var pushed) == true && now - pushed < (e.Emergency ? emergencyAfter : after)))
            .ToArray();
        if (due.Length > 0) await RereadBeforeWritingAgainAsync(_mailbox, due);
        foreach (var entry in due)
        {
            // Answered meanwhile: by the terminal while the rows were read, or through another activation (the re-read).
            if (_mailbox.Get(entry.Seq) is not { Answered: false } waiting) continue;
            logger.LogDebug("{Udn}: MMS {MessageId} unanswered; writing it again", Udn, entry.MessageId);
            Push(waiting);
        }
        if (_redeliveryTimerFast && !_mailbox.EmergencyWaiting)
        {
            var period = RedeliveryPeriod(emergency: false);
            _redeliveryTimer?.Change(period, period);
            _redeliveryTimerFast = false;
        }
    }

    /// <summary>
    /// Reads again the rows of MMS this activation wrote to a terminal and would write again (a redelivery, a new
    /// session's backlog). Another activation of this grain may have recorded their answers: while the silos agree on
    /// a death, a call can reach a second activation, which loaded the mailbox before the first recorded the ACK
    /// (RELIABILITY.md, finding 10), and without this read the terminal would get the MMS again after answering it. A
    /// recorded answer is taken over and relayed (the activation that recorded it may have died before relaying it;
    /// the originator's terminal takes a second ACK for one); a row gone (expired) leaves the mailbox. Rare, and
    /// one row each: an MMS is written again only when its terminal left it unanswered.
    /// </summary>
    private async Task RereadBeforeWritingAgainAsync(Mailbox mailbox, IReadOnlyList<MailboxEntry> entries)
    {
        if (entries.Count == 0) return;
        IReadOnlyDictionary<long, MailboxEntry> rows;
        try
        {
            rows = await ReadRowsAsync(entries);
        }
        catch (Exception e)
        {
            // Cannot tell: written again, as before the read (a redelivery the terminal's answer settles).
            logger.LogWarning("{Udn}: {Count} MMS could not be read again before writing them again: {Reason}", Udn, entries.Count, e.Message);
            return;
        }
        foreach (var entry in entries)
        {
            var stored = rows.GetValueOrDefault(entry.Seq);
            if (stored is { Answered: false }) continue;
            // Changed in this activation while the rows were read: this activation's own record stands.
            if (!ReferenceEquals(mailbox.Get(entry.Seq), entry)) continue;
            _lastPushed?.Remove(entry.Seq);
            _deliveredRaised?.Remove(entry.Seq);
            if (stored is null)
            {
                logger.LogInformation("{Udn}: MMS {MessageId} from {From} is no longer stored; not written again", Udn, entry.MessageId, entry.From);
                mailbox.Remove(entry.Seq);
                continue;
            }
            logger.LogInformation("{Udn}: MMS {MessageId} from {From} was answered {MsgType} through another activation; not written again",
                Udn, entry.MessageId, entry.From, stored.AnswerMsgType);
            mailbox.Replace(stored);
            if (stored.AnswerMsgType is not { } msgType) continue;
            if (stored.AnsweredAt >= AnswerRelayCutoff()) RelayAnswerBehind(stored, msgType, stored.AnswerReturnCode);
            else mailbox.Settle(stored.Seq, msgType, stored.AnswerReturnCode, relayedHere: false);
        }
    }

    /// <summary>The stored rows of <paramref name="entries"/> by number (absent: no longer stored): one read each, or the whole mailbox for many.</summary>
    private async Task<IReadOnlyDictionary<long, MailboxEntry>> ReadRowsAsync(IReadOnlyList<MailboxEntry> entries)
    {
        const int RowsReadOneByOne = 4;
        if (entries.Count > RowsReadOneByOne)
        {
            var wanted = entries.Select(e => e.Seq).ToHashSet();
            return (await store.LoadAsync(Udn)).Where(row => wanted.Contains(row.Seq)).ToDictionary(row => row.Seq);
        }
        var rows = new Dictionary<long, MailboxEntry>();
        foreach (var entry in entries)
        {
            if (await store.FindAsync(Udn, entry.Seq) is { } row) rows[row.Seq] = row;
        }
        return rows;
    }

    private async Task ForgetSessionsOfGoneGatewaysAsync()
    {
        var gone = await GrainFactory.GetGrain<IGatewayDirectoryGrain>(0).GetGoneGatewaysAsync();
        var ended = state.State.Sessions.Where(s => gone.Contains(s.GatewayId)).ToArray();
        if (state.State.Sessions.RemoveAll(s => gone.Contains(s.GatewayId)) > 0)
        {
            RaiseOffline(ended);
            logger.LogInformation("{Udn}: forgot sessions of gateways that are gone", Udn);
            WriteSessionsBehind();
        }
    }
}
