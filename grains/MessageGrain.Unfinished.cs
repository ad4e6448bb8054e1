using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;
using Orleans.Storage;

namespace Mmss.Grains;

/// <summary>
/// What an accepted MMS still owes after storage failed part-way: group copies not stored yet, FAILs of unknown members
/// not recorded, the message's own state not written. Once one copy is stored the MMS is the server's to finish: the
/// sender is never told it failed (FAIL 9) while members have it. A timer that keeps the activation alive tries again
/// with backoff until nothing is owed; copies still owed when the message expires are that member's FAIL 5.
/// A silo dying meanwhile loses the in-memory part; the state names the members still owed, and the sender's next
/// submission of the same id (a gateway's retry, a terminal's resend after reconnecting) resumes from there.
/// </summary>
public sealed partial class MessageGrain
{
    private UnfinishedFanOut? _unfinished;
    private bool _stateOwed;
    private IGrainTimer? _finisher;
    private TimeSpan _finisherDelay;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(10);

    /// <param name="Submission">What to store for the members still owed (null when only answers are owed).</param>
    private sealed record UnfinishedFanOut(MmsSubmission? Submission, List<string> Owed)
    {
        public List<string> UnknownOwed { get; } = [];

        public bool Done => Owed.Count == 0 && UnknownOwed.Count == 0;
    }

    /// <summary>A submission of an id whose state names copies still owed, seen by an activation that has lost them.</summary>
    private async Task ResumeFanOutAsync(MmsSubmission submission)
    {
        if (_unfinished is not null || state.State.CopiesOwed is not { Count: > 0 } owed) return;
        await LoadOutcomesAsync();
        _unfinished = new UnfinishedFanOut(submission, [.. owed]);
        logger.LogInformation("Group MMS {MessageId} from {Sender}: resuming the fan-out to {Owed} members", MessageId, Sender, owed.Count);
        ArmFinisher();
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
            // A write reported failed had been made after all: what is stored is newer than this activation's view.
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
        if (_unfinished is null && !_stateOwed)
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
        if (_stateOwed)
        {
            var owed = _unfinished?.Owed;
            await UpdateStateAsync(s =>
            {
                if (s.Group is null) return;
                s.StoredOffline = [.. _offline];
                s.CopiesOwed = owed is { Count: > 0 } ? [.. owed] : null;
            });
            _stateOwed = false;
            logger.LogInformation("MMS {MessageId} from {Sender}: state written after an earlier failure", MessageId, Sender);
        }
        if (state.State.Group is not null && !state.State.Aggregated && SettledWithOfflineMembers()) await AggregateIfOwedAsync(windowClosed: false);
    }

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
