using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Mmss.Grains;

/// <summary>
/// The user state's writes: one at a time, and a change made while one is in flight written by a single write after
/// it. Session changes (login, logout, presence) are written behind: a terminal's login or logout never waits for the
/// database, nor do the calls queued behind it on this grain. When every terminal of a gateway disconnects at once
/// (a rolling restart), a write per logout each held its user grain for as long as the database took to work through
/// thousands of them — a message to one of those users waited seconds — and a reconnection's login waited behind its
/// own logout. Written behind, a logout and the login after it are often one write. What a session change that was
/// not written yet costs if this silo dies first is what a lost session write always cost: the gateways tell the new
/// activation their sessions again (<see cref="ResyncSessionAsync"/>), and a session of a gateway counted gone is
/// dropped (<see cref="LiveSessions"/>). A failed write is made again at the next change or when the grain is
/// deactivated.
/// </summary>
public sealed partial class UserGrain
{
    /// <summary>The last write begun.</summary>
    private Task _stateWrite = Task.CompletedTask;

    /// <summary>A write waiting for <see cref="_stateWrite"/>, which will write every change made until it begins.</summary>
    private Task? _queuedStateWrite;

    /// <summary>
    /// A session change not written yet: its write failed and none succeeded since, or (embedded mode,
    /// <see cref="SessionDurability"/>) it waits for the deactivation or the next write of the state.
    /// </summary>
    private bool _sessionsUnwritten;

    /// <summary>Completes once a write begun after this call (so holding every change made before it) has succeeded.</summary>
    private Task WriteStateAsync()
    {
        // Checked first: between the end of the write in flight and the queued one's start, a write begun here would run
        // beside it with the same ETag.
        if (_queuedStateWrite is { } queued) return queued;
        if (!_stateWrite.IsCompleted) return _queuedStateWrite = WriteAfterAsync(_stateWrite);
        return _stateWrite = WriteNowAsync();
    }

    private async Task WriteAfterAsync(Task inFlight)
    {
        try
        {
            await inFlight;
        }
        catch
        {
            // Its callers heard of its failure; this write carries their change as well as the later ones.
        }
        _queuedStateWrite = null;
        await (_stateWrite = WriteNowAsync());
    }

    private async Task WriteNowAsync()
    {
        await state.WriteStateAsync();
        _sessionsUnwritten = false;
    }

    /// <summary>
    /// Writes the session list behind (see the class remarks), or in embedded mode leaves it to the deactivation
    /// (<see cref="SessionDurability"/>); a failure is logged and written again later.
    /// </summary>
    private void WriteSessionsBehind()
    {
        if (sessionDurability.SessionsOutliveSilo) _ = WriteSessionsLoggedAsync();
        else _sessionsUnwritten = true;
    }

    private async Task WriteSessionsLoggedAsync()
    {
        try
        {
            await WriteStateAsync();
        }
        catch (InconsistentStateException e)
        {
            // Another activation wrote the state (or a lost commit did): this one's copy is stale, as a grain call failing
            // the same way would have made Orleans conclude. The next activation reads it afresh.
            logger.LogWarning("{Udn}: the session list's write met a newer state; deactivating: {Reason}", Udn, e.Message);
            this.DeactivateOnIdle();
        }
        catch (Exception e)
        {
            _sessionsUnwritten = true;
            logger.LogWarning("{Udn}: the session list could not be written yet; it is written at the next change: {Reason}", Udn, e.Message);
        }
    }

    /// <summary>Clears the state once no write is in flight or queued: a write finishing after the clear would bring it back.</summary>
    private async Task ClearStateAfterWritesAsync()
    {
        await WritesSettledAsync();
        await state.ClearStateAsync();
    }

    private async Task WritesSettledAsync()
    {
        while (PendingStateWrite() is { } pending)
        {
            try
            {
                await pending;
            }
            catch
            {
                // Heard of by its callers, or logged.
            }
        }
    }

    private Task? PendingStateWrite() => _queuedStateWrite ?? (_stateWrite.IsCompleted ? null : _stateWrite);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await WritesSettledAsync();
        if (!_sessionsUnwritten || state.State.Credentials is null) return;
        // Embedded mode stopping: its sessions end with it, and the next start counts its gateway gone anyway.
        if (!sessionDurability.SessionsOutliveSilo && reason.ReasonCode == DeactivationReasonCode.ShuttingDown) return;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            logger.LogWarning("{Udn}: the session list could not be written before deactivation: {Reason}", Udn, e.Message);
        }
    }
}
