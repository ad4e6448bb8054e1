using Mmss.Gateway.C2s;

namespace Mmss.Gateway.Messaging;

/// <summary>
/// Tells the user grains of every session of this gateway again where their sessions are, after an event that may
/// have made grains and gateway disagree: this gateway was counted gone (its sessions forgotten), or a silo died (the
/// grains it held come back elsewhere without their pushes in flight and redelivery timers). Each grain answers
/// cheaply when nothing diverged. One pass at a time; a request during a pass runs one more pass after it.
/// </summary>
public sealed class SessionResync(SessionRegistry sessions, ILogger<SessionResync> logger)
{
    private const int Concurrency = 32;

    /// <summary>Grain calls to a silo that died wait until the cluster declares it dead; retried for this long.</summary>
    private static readonly TimeSpan RetryFor = TimeSpan.FromMinutes(2);

    private readonly Lock _lock = new();
    private Task _pass = Task.CompletedTask;
    private bool _again;

    public void Request(string reason)
    {
        lock (_lock)
        {
            if (!_pass.IsCompleted)
            {
                _again = true;
                return;
            }
            _pass = Task.Run(() => RunAsync(reason));
        }
    }

    /// <summary>The pass running now, if any (tests and shutdown wait for it).</summary>
    public Task Current
    {
        get
        {
            lock (_lock) return _pass;
        }
    }

    private async Task RunAsync(string reason)
    {
        while (true)
        {
            var all = sessions.All().Where(s => !s.HasEnded).ToArray();
            logger.LogInformation("Resynchronising {Count} sessions with their user grains: {Reason}", all.Length, reason);
            var failed = 0;
            await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (session, _) =>
            {
                if (!await ResyncWithRetriesAsync(session)) Interlocked.Increment(ref failed);
            });
            if (failed > 0) logger.LogWarning("{Count} sessions could not be resynchronised; their terminals get what waits at their next login", failed);
            lock (_lock)
            {
                if (!_again) return;
                _again = false;
            }
        }
    }

    private async Task<bool> ResyncWithRetriesAsync(C2sSession session)
    {
        var deadline = DateTime.UtcNow + RetryFor;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                await BoundedGrainCall.Bounded(session.ResyncAsync());
                return true;
            }
            catch (Exception e) when (DateTime.UtcNow + delay < deadline && !session.HasEnded)
            {
                logger.LogDebug("{FullJid}: resynchronisation failed, retrying: {Reason}", session.FullJid, e.Message);
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(8).Ticks));
            }
            catch (Exception e)
            {
                logger.LogWarning("{FullJid}: resynchronisation failed: {Reason}", session.FullJid, e.Message);
                return false;
            }
        }
    }
}
