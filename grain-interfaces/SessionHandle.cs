namespace Mmss.GrainInterfaces;

/// <summary>A live terminal session: which gateway holds it, and the observer through which that gateway takes deliveries.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionHandle(
    [property: Id(0)] string GatewayId,
    [property: Id(1)] string SessionId,
    [property: Id(2)] ISessionObserver Observer);
