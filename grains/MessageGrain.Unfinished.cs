using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;
using Orleans.Storage;

namespace Mmss.Grains;

/// <summary>
/// What an accepted MMS still owes after storage failed part-way: group copies not stored yet, FAILs of unknown members
/// not recorded, the message's own state not written. Once one copy is stored the MMS is the server's to finish: the
/// sender is never told it failed (FAIL 9) while members have it. A timer that keeps the activation alive tries again
/// with backoff until nothing is owed; copies still owed when the message expires are that member's FAIL 5.
/// Copies owed outlive the activation (a silo's death, or the directory partition of a dead silo taking it): the state
/// names them with the submission, and a row under the message's outcome owner, due at once, has the expiry sweep
/// call <see cref="SweepAsync"/>, which resumes them. Until both are written the submission is not reported stored: the
/// caller is told its outcome is unknown and keeps trying, and each try finishes what it can.
/// </summary>
public sealed partial class MessageGrain
{
    private UnfinishedFanOut? _unfinished;
    private bool _stateOwed;
    private IGrainTimer? _finisher;
    private TimeSpan _finisherDelay;

    /// <summary>The sequence number of the row that has the expiry sweep wake this grain while copies are owed.</summary>
    private long? _resumeRow;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(10);

    /// <param name="Submission">What to store for the members still owed (null when only answers are owed).</param>
    private sealed record UnfinishedFanOut(MmsSubmission? Submission, List<string> Owed)
    {
        public List<string> UnknownOwed { get; } = [];

        public bool Done => Owed.Count == 0 && UnknownOwed.Count == 0;
    }

    /// <summary>Copies owed are recorded where a later activation finds them (or none are owed).</summary>
    private bool OwedCopiesRecorded => _unfinished is not { Owed.Count: > 0 } || _resumeRow is not null;

    /// <summary>The outcome to report once the fan-out has stored what it could: stored, or (copies owed but not recorded) unknown.</summary>
    private SubmitOutcome StoredOrUnknown(string reason)
    {
        if (_unfinished is not null || _stateOwed) ArmFinisher();
        if (OwedCopiesRecorded) return SubmitOutcome.Stored(reason);
        throw new StorageOutcomeUnknownException(
            $"group MMS {MessageId}: {_unfinished!.Owed.Count} copies could not be stored nor recorded as owed yet; some members may have it");
    }

    /// <summary>
    /// A submission of an id already stored, while copies are owed: this activation's (finished as far as storage
    /// allows now) or, after the activation that owed them was lost, those its state names.
    /// </summary>
    private async Task<SubmitOutcome?> FinishOnResubmissionAsync()
    {
        await LoadOutcomesAsync();
        if (_unfinished is null && !ResumeFromState()) return null;
        try
        {
            await FinishOwedAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException and not InconsistentStateException)
        {
            // Storage still failing: members have the MMS all the same, so this is no refusal (see StoredOrUnknown).
            logger.LogWarning(e, "Group MMS {MessageId} from {Sender}: copies owed could not be finished on its resubmission", MessageId, Sender);
        }
        return StoredOrUnknown("duplicate of a stored message");
    }

    /// <summary>Takes up the copies the state names as owed, if this activation does not hold them already.</summary>
    private bool ResumeFromState()
    {
        if (_unfinished is not null || state.State is not { CopiesOwed.Count: > 0, OwedSubmission: { } submission } owedState) return false;
        _unfinished = new UnfinishedFanOut(submission, [.. owedState.CopiesOwed!]);
        logger.LogInformation("Group MMS {MessageId} from {Sender}: resuming the fan-out to {Owed} members", MessageId, Sender, _unfinished.Owed.Count);
        return true;
    }

    private void ArmFinisher()
    {
        if (_finisher is not null) return;
        _finisherDelay = FirstRetry;
        _finisher = this.RegisterGrainTimer(_ => FinishAsync(), new GrainTimerCreationOptions(_finisherDelay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task FinishAsync()
    {
        try
        {
            await FinishOwedAsync();
        }
        catch (InconsistentStateException e)
        {
            // A write reported failed had been made after all: what is stored is newer than this activation's view. A
            // new activation reads it; copies owed that it names are resumed by the sweep.
            logger.LogWarning(e, "MMS {MessageId} from {Sender}: stored state changed under this activation; reloading it", MessageId, Sender);
            _unfinished = null;
            _stateOwed = false;
            this.DeactivateOnIdle();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "MMS {MessageId} from {Sender}: what is owed could not be finished yet; tried again in {Delay}",
                MessageId, Sender, _finisherDelay);
        }
        if (_unfinished is null && !_stateOwed && _resumeRow is null)
        {
            _finisher?.Dispose();
            _finisher = null;
            return;
        }
        _finisherDelay = TimeSpan.FromTicks(Math.Min(_finisherDelay.Ticks * 2, LongestRetry.Ticks));
        _finisher?.Change(_finisherDelay, Timeout.InfiniteTimeSpan);
    }

    private async Task FinishOwedAsync()
    {
        if (_unfinished is { } unfinished)
        {
            if (unfinished.Owed.Count > 0) await StoreOwedCopiesAsync(unfinished);
            var unknown = unfinished.UnknownOwed.ToArray();
            unfinished.UnknownOwed.Clear();
            await RecordUnknownMembersAsync(unknown);
            if (unfinished.Done)
            {
                _unfinished = null;
                _stateOwed = true;
            }
        }
        if (_stateOwed) await WriteOwedStateAsync();
        if (_unfinished is { Owed.Count: > 0 } && _resumeRow is null)
        {
            _resumeRow = await store.AppendAsync(OutcomeOwner, ResumeMarker());
        }
        else if (_unfinished is not { Owed.Count: > 0 } && _resumeRow is { } row)
        {
            await store.RemoveAsync(OutcomeOwner, row);
            _resumeRow = null;
        }
        if (state.State.Group is not null && !state.State.Aggregated && SettledWithOfflineMembers()) await AggregateIfOwedAsync(windowClosed: false);
    }

    /// <summary>The state as this activation knows it, with the copies still owed and what to store for them.</summary>
    private async Task WriteOwedStateAsync()
    {
        var owed = _unfinished is { Owed.Count: > 0 } unfinished ? unfinished : null;
        await UpdateStateAsync(s =>
        {
            if (s.Group is null) return;
            s.StoredOffline = [.. _offline];
            s.CopiesOwed = owed is null ? null : [.. owed.Owed];
            s.OwedSubmission = owed?.Submission;
        });
        _stateOwed = false;
    }

    /// <summary>Due at once and again at each sweep until removed: the expiry sweep then calls <see cref="SweepAsync"/>.</summary>
    private MailboxEntry ResumeMarker() =>
        new(0, DeliveryKind.Mms, MessageId, Sender, null, null, null, time.GetUtcNow(), Answered: false);

    private async Task StoreOwedCopiesAsync(UnfinishedFanOut unfinished)
    {
        var owed = unfinished.Owed.ToArray();
        if (time.GetUtcNow() >= state.State.ExpiresAt)
        {
            // The message's life ended before storage came back for these members: they never had it.
            logger.LogWarning("Group MMS {MessageId} from {Sender}: {Owed} copies never stored before it expired", MessageId, Sender, owed.Length);
            unfinished.Owed.Clear();
            _stateOwed = true;
            foreach (var member in owed) await MemberAnsweredAsync(member, MmsRules.FailType, MmsRules.ExpiredReturnCode);
            return;
        }
        var outcomes = await Task.WhenAll(owed.Select(m => TryAcceptCopyAsync(m, unfinished.Submission!, state.State.Group!, state.State.ExpiresAt)));
        for (var i = 0; i < owed.Length; i++)
        {
            if (outcomes[i].Failure is not null) continue;
            unfinished.Owed.Remove(owed[i]);
            _stateOwed = true;
            if (outcomes[i].Acceptance == MmsAcceptance.StoredOffline) _offline.Add(owed[i]);
            else if (outcomes[i].Acceptance == MmsAcceptance.Unknown) unfinished.UnknownOwed.Add(owed[i]);
        }
        var stored = owed.Length - unfinished.Owed.Count;
        if (stored > 0)
            logger.LogInformation("Group MMS {MessageId} from {Sender}: {Stored} owed copies stored, {Left} left", MessageId, Sender, stored, unfinished.Owed.Count);
    }
}
