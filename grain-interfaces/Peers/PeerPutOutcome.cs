namespace Mmss.GrainInterfaces.Peers;

/// <summary>What the directory did with a peer definition: created or replaced it, or refused it and why.</summary>
[GenerateSerializer, Immutable]
public sealed record PeerPutOutcome([property: Id(0)] bool Created, [property: Id(1)] string? Refusal);
