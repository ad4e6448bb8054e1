using Mmss.Gateway.C2s;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Messaging;

/// <summary>The one grain observer of this gateway: deliveries from user grains, handed to the session they name.</summary>
public sealed class SessionObserver(SessionRegistry sessions, ILogger<SessionObserver> logger) : ISessionObserver
{
    public Task DeliverAsync(string sessionId, Delivery[] deliveries)
    {
        if (sessions.FindBySessionId(sessionId) is { } session)
        {
            _ = session.PushAsync(deliveries);
        }
        else
        {
            // The session is gone; what it did not answer stays stored and waits for the next login.
            logger.LogDebug("Deliveries for closed session {SessionId} dropped", sessionId);
        }
        return Task.CompletedTask;
    }

    public Task PresenceAsync(string sessionId, PresenceUpdate[] presences)
    {
        // Presence is never stored: a session gone has nobody to show it to.
        if (sessions.FindBySessionId(sessionId) is { } session) _ = session.PushPresenceAsync(presences);
        return Task.CompletedTask;
    }
}
