using Orleans.Messaging;

namespace Mmss.Gateway.Messaging;

/// <summary>
/// Resynchronises this gateway's sessions (cluster mode) when a silo dies. Grains of quiet terminals come back, with
/// their redelivery timers, only when something calls them, and a silo's death reaches grains the gateway cannot see
/// from its own connections: those on a silo it had no connection to (the client learns of a restarted silo only at
/// its next gateway-list refresh), and, once the cluster has declared the death, those on surviving silos whose
/// directory entries the dead silo held, which the survivors then drop. So the gateway watches the cluster's active
/// silos (the membership table, through the client's gateway list) and runs a pass when one leaves it, and another a
/// little later, after the survivors have acted on the news. A lost silo connection runs a pass at once (the grains
/// that were on it answer once the death is declared) and two later ones, for a death the watch cannot read.
/// </summary>
public sealed class SiloDeathWatch(IGatewayListProvider gatewayList, SessionResync resync, ILogger<SiloDeathWatch> logger) : BackgroundService
{
    /// <summary>One small query of the membership table per period and gateway; a death is acted on within it.</summary>
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(2);

    /// <summary>Time for the surviving silos to act on a declared death (they learn it by gossip, at once as a rule).</summary>
    private static readonly TimeSpan AfterDeparture = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan[] AfterConnectionLoss = [TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    public void SiloConnectionLost()
    {
        resync.Request("a silo connection was lost");
        foreach (var delay in AfterConnectionLoss) RequestLater(delay, "a silo connection was lost");
    }

    private void RequestLater(TimeSpan delay, string cause) =>
        _ = Task.Delay(delay).ContinueWith(_ => resync.Request($"{delay.TotalSeconds:0} s after {cause}"), TaskScheduler.Default);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<Uri>? active = null;
        var unreadable = false;
        using var timer = new PeriodicTimer(PollEvery);
        try
        {
            do
            {
                IList<Uri> now;
                try
                {
                    now = await gatewayList.GetGateways();
                }
                catch (Exception e)
                {
                    // Logged once per outage: the fixed-delay passes after a lost connection still run meanwhile.
                    if (!unreadable) logger.LogWarning("The cluster's active silos could not be read; watching again when they can: {Reason}", e.Message);
                    unreadable = true;
                    continue;
                }
                unreadable = false;
                var left = active?.Where(g => !now.Contains(g)).ToArray() ?? [];
                active = [.. now];
                if (left.Length == 0) continue;
                logger.LogInformation("Silo {Gateways} left the cluster (declared dead or stopped); resynchronising sessions", left);
                resync.Request("a silo left the cluster");
                RequestLater(AfterDeparture, "a silo left the cluster");
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
