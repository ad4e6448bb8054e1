namespace Mmss.GrainInterfaces;

/// <summary>A talk-group as provisioned: its GDN, display name and member UDNs.</summary>
[GenerateSerializer, Immutable]
public sealed record GroupProfile(
    [property: Id(0)] string Gdn,
    [property: Id(1)] string Name,
    [property: Id(2)] IReadOnlyList<string> Members);
