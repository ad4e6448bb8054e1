using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// One timer for all connections (not one per connection): closes logins that overrun their deadline, pings idle
/// sessions (XEP-0199, spec 7.3) and closes those that stay silent after the ping.
/// </summary>
public sealed class KeepaliveSweeper(ConnectionTracker connections, SessionRegistry sessions, IOptions<C2sOptions> options,
    TimeProvider time, ILogger<KeepaliveSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var period = TimeSpan.FromSeconds(Math.Clamp(Math.Min(o.PingTimeoutSeconds, o.LoginTimeoutSeconds) / 4.0, 0.25, 5));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    Sweep(o);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Keepalive sweep failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Sweep(C2sOptions o)
    {
        var now = time.GetTimestamp();
        var frequency = (double)time.TimestampFrequency;
        foreach (var connection in connections.All())
        {
            if (!connection.IsBound)
            {
                if ((now - connection.ConnectedAt) / frequency > o.LoginTimeoutSeconds)
                {
                    logger.LogInformation("Connection {ConnectionId} from {Address} did not log in within {Seconds}s",
                        connection.Id, connection.RemoteAddress, o.LoginTimeoutSeconds);
                    _ = connection.CloseAsync(StreamErrorCondition.ConnectionTimeout, "no login within the deadline");
                }
                continue;
            }
            // Its answer to a ping may be waiting behind its own messages: silence the server causes is no sign of death.
            if (connection.IsHeldByServer) continue;
            var pingSentAt = connection.PingSentAt;
            if (pingSentAt != 0 && connection.LastReceivedAt < pingSentAt)
            {
                if ((now - pingSentAt) / frequency > o.PingTimeoutSeconds)
                {
                    logger.LogInformation("{FullJid} did not answer a ping within {Seconds}s; closing", connection.FullJid, o.PingTimeoutSeconds);
                    _ = connection.CloseAsync(StreamErrorCondition.ConnectionTimeout, "no answer to ping");
                }
                continue;
            }
            if ((now - connection.LastReceivedAt) / frequency > o.IdleSecondsBeforePing)
            {
                _ = SendPingAsync(connection);
            }
        }
        foreach (var session in sessions.Detached())
        {
            if (session.DetachedAt != 0 && (now - session.DetachedAt) / frequency > o.ResumeTimeoutSeconds)
            {
                logger.LogInformation("{FullJid} was not resumed within {Seconds}s; session ended", session.FullJid, o.ResumeTimeoutSeconds);
                _ = session.EndAsync();
            }
        }
    }

    private async Task SendPingAsync(C2sConnection connection)
    {
        try
        {
            await connection.SendKeepalivePingAsync();
        }
        catch (Exception e)
        {
            logger.LogDebug("Ping to {FullJid} failed: {Reason}", connection.FullJid, e.Message);
        }
    }
}
