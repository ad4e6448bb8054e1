using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains.Relay;

[GenerateSerializer]
public sealed class PeerDirectoryState
{
    /// <summary>Raised by every change, so that each process knows whether its copy is current.</summary>
    [Id(0)] public long Version { get; set; }

    /// <summary>By lower-case domain.</summary>
    [Id(1)] public Dictionary<string, PeerRecord> Peers { get; set; } = [];
}
