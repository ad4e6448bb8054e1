namespace Mmss.GrainInterfaces;

[GenerateSerializer, Immutable]
public sealed record UserProfile(
    [property: Id(0)] string Udn,
    [property: Id(1)] string Name,
    [property: Id(2)] StoredCredentials Credentials,
    [property: Id(3)] bool Emergency = false);
