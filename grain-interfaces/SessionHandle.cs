namespace Mmss.GrainInterfaces;

/// <summary>
/// A live terminal session: which gateway holds it, the observer through which that gateway takes deliveries, and the
/// terminal's source address (attachment access by session is decided from it on whichever gateway serves the HTTP request).
/// </summary>
/// <param name="SessionId">Unique in the cluster: the gateway's identity and its connection number.</param>
/// <param name="Presence">What the session announced (RFC 6121 §4); null until its initial presence, and after unavailable.</param>
[GenerateSerializer, Immutable]
public sealed record SessionHandle(
    [property: Id(0)] string GatewayId,
    [property: Id(1)] string SessionId,
    [property: Id(2)] ISessionObserver Observer,
    [property: Id(3)] string? Address = null,
    [property: Id(4)] PresenceUpdate? Presence = null);
