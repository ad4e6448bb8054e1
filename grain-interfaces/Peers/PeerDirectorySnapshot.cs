namespace Mmss.GrainInterfaces.Peers;

/// <summary>The peers defined through the admin API or the seed file, at one version of the directory.</summary>
[GenerateSerializer, Immutable]
public sealed record PeerDirectorySnapshot([property: Id(0)] long Version, [property: Id(1)] IReadOnlyList<PeerRecord> Peers);
