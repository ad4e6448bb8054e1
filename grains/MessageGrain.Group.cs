using System.Globalization;
using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;
using Mmss.Grains.Diagnostics;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains;

/// <summary>
/// Group messages (spec "Group message", project decision "Group ACK aggregation"): one copy per member, member answers
/// stored one row each, and exactly one aggregated answer to the sender, plus MsgType 101 reports when asked.
/// </summary>
public sealed partial class MessageGrain
{
    private Dictionary<string, (string MsgType, string? ReturnCode)>? _outcomes;
    private readonly HashSet<string> _recording = [];
    private HashSet<string>? _members;
    private HashSet<string> _offline = [];
    private IGrainTimer? _window;

    private string OutcomeOwner => MessageKey.OutcomeOwnerPrefix + this.GetPrimaryKeyString();

    private async Task<SubmitOutcome> SubmitToGroupAsync(MmsSubmission submission, GroupProfile group, byte[] hash, DateTimeOffset expiresAt)
    {
        if (!group.Members.Contains(Sender))
            return SubmitOutcome.Failed(FailCode.NotAllowed, $"{Sender} is not a member of group {group.Gdn}");
        var members = group.Members.Where(m => m != Sender).Distinct().ToList();
        if (members.Count == 0) return SubmitOutcome.Failed(FailCode.RecipientUnknown, $"group {group.Gdn} has no other members");

        // Known in memory before the fan-out: members may answer (interleaved) before it has finished.
        var aggregateAt = time.GetUtcNow().AddSeconds(AggregationSeconds(submission.Emergency));
        state.State.Recipient = group.Gdn;
        state.State.Group = group.Gdn;
        state.State.Members = members;
        state.State.ExpiresAt = expiresAt;
        state.State.AggregateAt = aggregateAt;
        state.State.ReportRequested = submission.DeliveryReport;
        _members = [.. members];
        await LoadOutcomesAsync();
        events.Submitted(Sender, MessageId, group.Gdn, group: true, submission.Emergency);
        MmssMetrics.Submitted(group: true);
        MmssMetrics.GroupFannedOut(members.Count);

        var outcomes = await Task.WhenAll(members.Select(m => TryAcceptCopyAsync(m, submission, group.Gdn, expiresAt)));
        if (outcomes.All(o => o.Failure is not null) && !outcomes.Any(o => UnknownOutcome.Of(o.Failure)))
        {
            // Nothing stored: the caller may try again, or answer FAIL 9 truthfully.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(outcomes[0].Failure!);
        }

        // From the first copy stored (or perhaps stored: see UnknownOutcome) on, the MMS is accepted:
        // members may have it already, so the sender must never hear it failed. Copies that could not be stored (the
        // database restarting, a silo dying) are this grain's to finish, tried again until the message expires, rather
        // than the caller's to retry and then answer FAIL 9; members who have one already are not given a second.
        var owed = new List<string>();
        var unknown = new List<string>();
        for (var i = 0; i < members.Count; i++)
        {
            if (outcomes[i].Failure is not null) owed.Add(members[i]);
            else if (outcomes[i].Acceptance == MmsAcceptance.StoredOffline) _offline.Add(members[i]);
            else if (outcomes[i].Acceptance == MmsAcceptance.Unknown) unknown.Add(members[i]);
        }
        if (owed.Count > 0)
        {
            _unfinished = new UnfinishedFanOut(submission, owed);
            logger.LogWarning(outcomes.First(o => o.Failure is not null).Failure,
                "Group MMS {MessageId} from {Sender} to {Group}: {Owed} of {Count} copies not stored yet; tried again until they are",
                MessageId, Sender, group.Gdn, owed.Count, members.Count);
        }

        // Written once the copies are stored (those still owed named, with what to store for them): a crash before this
        // makes a retry fan out again, which members who have their copy ignore.
        try
        {
            await UpdateStateAsync(s =>
            {
                s.ContentHash = hash;
                s.StoredOffline = [.. _offline];
                s.CopiesOwed = owed.Count > 0 ? owed : null;
                s.OwedSubmission = owed.Count > 0 ? submission : null;
            });
            if (owed.Count > 0) _resumeRow = await store.AppendAsync(OutcomeOwner, ResumeMarker());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _stateOwed = true;
            logger.LogWarning(e, "Group MMS {MessageId} from {Sender}: its state could not be written yet; tried again", MessageId, Sender);
        }
        StartWindow(aggregateAt);
        await RecordUnknownMembersAsync(unknown);
        try
        {
            if (!state.State.Aggregated && SettledWithOfflineMembers()) await AggregateIfOwedAsync(windowClosed: false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The copies are stored: the window's close (or the next answer) aggregates instead.
            logger.LogWarning(e, "Group MMS {MessageId} from {Sender}: its answer could not be aggregated yet", MessageId, Sender);
        }
        var stored = members.Count - unknown.Count - owed.Count;
        logger.LogInformation("Group MMS {MessageId} from {Sender} to {Group}: {Count} copies stored", MessageId, Sender, group.Gdn, stored);
        return StoredOrUnknown($"stored for {stored} members of {group.Gdn}" + (owed.Count > 0 ? $", {owed.Count} more to follow" : ""));
    }

    /// <summary>An emergency's sender learns sooner who has it; never later than an ordinary message's.</summary>
    private int AggregationSeconds(bool emergency) =>
        emergency
            ? Math.Min(options.Value.EmergencyGroupAggregationSeconds, options.Value.GroupAggregationSeconds)
            : options.Value.GroupAggregationSeconds;

    /// <summary>
    /// A member's copy: stored in the member's mailbox here, or queued for the member's home MMSS (seed 6.5.4), whose
    /// answer comes back like a local member's; until then the member counts as online and unanswered. spec 6.5.2: each
    /// copy names its group; MsgGroup is added when the sender left it out. An emergency's copies are emergency copies:
    /// ahead of ordinary mail in every member's mailbox and on every member's connection.
    /// </summary>
    private async Task<MmsAcceptance> AcceptCopyAsync(string member, MmsSubmission submission, string gdn, DateTimeOffset expiresAt)
    {
        if (peers.FindByUdn(member) is not { } peer)
        {
            IReadOnlyList<KeyValuePair<string, string>>? added = submission.MsgGroup is null ? [new("MsgGroup", gdn)] : null;
            return await GrainFactory.User(member).AcceptMmsAsync(Sender, submission, expiresAt, added);
        }
        var outcome = await GrainFactory.Reference<IPeerLinkGrain>(peer.Domain).RelayMmsAsync(submission with { Recipient = member }, gdn);
        return outcome.Accepted ? MmsAcceptance.Online : MmsAcceptance.Unknown;
    }

    private async Task<CopyOutcome> TryAcceptCopyAsync(string member, MmsSubmission submission, string gdn, DateTimeOffset expiresAt)
    {
        try
        {
            return new CopyOutcome(await AcceptCopyAsync(member, submission, gdn, expiresAt), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new CopyOutcome(MmsAcceptance.Unknown, e);
        }
    }

    private readonly record struct CopyOutcome(MmsAcceptance Acceptance, Exception? Failure);

    /// <summary>Members who turned out not to exist answer FAIL 1 at once; one whose answer cannot be stored yet is tried again.</summary>
    private async Task RecordUnknownMembersAsync(IEnumerable<string> unknown)
    {
        foreach (var member in unknown)
        {
            try
            {
                await MemberAnsweredAsync(member, MmsRules.FailType, FailCode.RecipientUnknown.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                (_unfinished ??= new UnfinishedFanOut(null, [])).UnknownOwed.Add(member);
                logger.LogWarning(e, "Group MMS {MessageId}: the FAIL of unknown member {Member} could not be stored yet", MessageId, member);
            }
        }
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Group is not null && !state.State.Aggregated) StartWindow(state.State.AggregateAt);
        await base.OnActivateAsync(cancellationToken);
    }

    private void StartWindow(DateTimeOffset aggregateAt)
    {
        if (_window is not null) return;
        var due = aggregateAt - time.GetUtcNow();
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        _window = this.RegisterGrainTimer(_ => WindowClosedAsync(), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task WindowClosedAsync()
    {
        await LoadOutcomesAsync();
        await AggregateIfOwedAsync(windowClosed: true);
    }

    private async Task MemberAnsweredAsync(string member, string msgType, string? returnCode)
    {
        await LoadOutcomesAsync();
        // Duplicate answers (a second ACK, ACK 2 after ACK 1) are ignored: the member has settled.
        if (!_members!.Contains(member) || _outcomes!.ContainsKey(member) || !_recording.Add(member)) return;
        try
        {
            await store.AppendAsync(OutcomeOwner, new MailboxEntry(0, DeliveryKind.Notice, MessageId, member, null, null,
                MmsRules.NoticeProperties(msgType, returnCode), state.State.ExpiresAt, Answered: true));
            _outcomes[member] = (msgType, returnCode);
        }
        finally
        {
            _recording.Remove(member);
        }
        if (!state.State.Aggregated)
        {
            if (_outcomes.Count == _members.Count || SettledWithOfflineMembers()) await AggregateIfOwedAsync(windowClosed: false);
        }
        else if (_outcomes.Count == _members.Count)
        {
            await FinalReportIfOwedAsync();
        }
    }

    /// <summary>
    /// Project decision "Group ACK aggregation": a member whose copy is stored offline is settled, so the sender need
    /// not wait for the window once every online member has answered and one of them took the message. Without such
    /// an ACK the window still runs: an offline member may log in and take it before it closes.
    /// </summary>
    private bool SettledWithOfflineMembers() =>
        _offline.Count > 0 &&
        _members!.All(m => _outcomes!.ContainsKey(m) || _offline.Contains(m)) &&
        _outcomes!.Values.Any(o => o.MsgType == MmsRules.AckType);

    private async Task AggregateIfOwedAsync(bool windowClosed)
    {
        await _stateGate.WaitAsync();
        try
        {
            if (state.State.Aggregated) return;
            var outcomes = _outcomes!;
            var acknowledged = outcomes.Values.Any(o => o.MsgType == MmsRules.AckType);
            string msgType, returnCode;
            if (acknowledged)
            {
                (msgType, returnCode) = (MmsRules.AckType, "1");
            }
            else
            {
                // No member took it: the code most members failed with; none answered at all → 255 (unspecified).
                msgType = MmsRules.FailType;
                returnCode = outcomes.Values.Where(o => o.MsgType == MmsRules.FailType && o.ReturnCode is not null)
                    .GroupBy(o => o.ReturnCode!).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => g.Key).FirstOrDefault() ?? FailCode.Unspecified.ToString(CultureInfo.InvariantCulture);
            }
            logger.LogInformation("Group MMS {MessageId} from {Sender}: {Answered}/{Members} answered{Window}; sender gets {MsgType}/{ReturnCode}",
                MessageId, Sender, outcomes.Count, _members!.Count, windowClosed ? " when the window closed" : "", msgType, returnCode);
            // Taken before the sender is notified: members answering meanwhile (the notices take a while) are not in this
            // report, and the final one owed for them is sent below.
            var answered = outcomes.Count;
            var delivered = outcomes.Values.Count(o => o.MsgType == MmsRules.AckType);
            var settled = answered == _members.Count;
            var report = state.State.ReportRequested ? Report() : null;
            await NotifySenderAsync(msgType, returnCode);
            events.GroupResult(Sender, MessageId, state.State.Group!, msgType, returnCode,
                delivered, answered - delivered, _members.Count - answered, windowClosed);
            MmssMetrics.GroupResult(msgType, returnCode);
            if (report is not null) await NotifySenderAsync(state.State.Group!, report);
            state.State.Aggregated = true;
            state.State.AnswerMsgType = msgType;
            state.State.AnswerReturnCode = returnCode;
            state.State.FinalReportSent = settled;
            await state.WriteStateAsync();
        }
        finally
        {
            _stateGate.Release();
        }
        if (state.State.ReportRequested && !state.State.FinalReportSent && _outcomes!.Count == _members!.Count) await FinalReportIfOwedAsync();
        else if (state.State.FinalReportSent || !state.State.ReportRequested) await DropOutcomesIfSettledAsync();
    }

    private async Task FinalReportIfOwedAsync()
    {
        if (!state.State.ReportRequested || state.State.FinalReportSent)
        {
            await DropOutcomesIfSettledAsync();
            return;
        }
        await _stateGate.WaitAsync();
        try
        {
            if (state.State.FinalReportSent) return;
            await NotifySenderAsync(state.State.Group!, Report());
            state.State.FinalReportSent = true;
            await state.WriteStateAsync();
        }
        finally
        {
            _stateGate.Release();
        }
        await DropOutcomesIfSettledAsync();
    }

    /// <summary>Vendor extension MsgType 101 (spec 8.1): who has the message, who refused it, who has not answered.</summary>
    private IReadOnlyList<KeyValuePair<string, string>> Report()
    {
        var outcomes = _outcomes!;
        var delivered = outcomes.Where(o => o.Value.MsgType == MmsRules.AckType).Select(o => o.Key).Order(StringComparer.Ordinal);
        var failed = outcomes.Where(o => o.Value.MsgType != MmsRules.AckType).Select(o => o.Key).Order(StringComparer.Ordinal);
        var pending = _members!.Where(m => !outcomes.ContainsKey(m)).Order(StringComparer.Ordinal);
        return
        [
            new("MsgType", "101"),
            new("Delivered", string.Join(',', delivered)),
            new("Failed", string.Join(',', failed)),
            new("Pending", string.Join(',', pending)),
        ];
    }

    public async Task SweepAsync()
    {
        if (state.State.Group is null) return;
        await LoadOutcomesAsync();
        if (_unfinished is not null || ResumeFromState()) ArmFinisher();
        else if (_resumeRow is not null && _finisher is null) await FinishOwedAsync(); // a marker left behind: removed
        // Besides the message's expiry, the sweep comes early for copies owed: the window may still be open then.
        if (time.GetUtcNow() >= state.State.AggregateAt) await AggregateIfOwedAsync(windowClosed: true);
        if (time.GetUtcNow() >= state.State.ExpiresAt)
        {
            // The message's life is over: whoever has not answered never will.
            if (state.State.ReportRequested && !state.State.FinalReportSent) await FinalReportIfOwedAsync();
            await DropOutcomeRowsAsync();
        }
    }

    private async Task DropOutcomesIfSettledAsync()
    {
        if (_outcomes!.Count == _members!.Count) await DropOutcomeRowsAsync();
    }

    private async Task DropOutcomeRowsAsync()
    {
        var rows = await store.LoadAsync(OutcomeOwner);
        await Task.WhenAll(rows.Select(r => store.RemoveAsync(OutcomeOwner, r.Seq)));
    }

    private async Task LoadOutcomesAsync()
    {
        if (_outcomes is not null && _members is not null) return;
        _members ??= [.. state.State.Members ?? []];
        if (_offline.Count == 0 && state.State.StoredOffline is { } offline) _offline = [.. offline];
        var outcomes = new Dictionary<string, (string, string?)>();
        foreach (var row in await store.LoadAsync(OutcomeOwner))
        {
            if (row.Kind == DeliveryKind.Mms)
            {
                // Not an answer: the marker that has the sweep resume copies owed (ResumeMarker).
                _resumeRow ??= row.Seq;
                continue;
            }
            var properties = row.Properties ?? [];
            var msgType = properties.FirstOrDefault(p => p.Key == "MsgType").Value ?? MmsRules.FailType;
            var returnCode = properties.FirstOrDefault(p => p.Key == "ReturnCode").Value;
            outcomes.TryAdd(row.From, (msgType, returnCode));
        }
        _outcomes ??= outcomes;
    }
}
