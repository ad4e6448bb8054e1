using Mmss.GrainInterfaces;

namespace Mmss.Grains;

[GenerateSerializer]
public sealed class UserState
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public StoredCredentials? Credentials { get; set; }

    /// <summary>Live sessions, kept so that a reactivated grain still knows where the terminal is.</summary>
    [Id(2)] public List<SessionHandle> Sessions { get; set; } = [];

    /// <summary>Provisioned: the user may send emergency MMS (Priority=emergency).</summary>
    [Id(3)] public bool Emergency { get; set; }
}
