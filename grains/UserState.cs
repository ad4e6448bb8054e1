using Mmss.GrainInterfaces;

namespace Mmss.Grains;

[GenerateSerializer]
public sealed class UserState
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public StoredCredentials? Credentials { get; set; }
}
