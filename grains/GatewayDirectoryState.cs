namespace Mmss.Grains;

[GenerateSerializer]
public sealed class GatewayDirectoryState
{
    /// <summary>Each gateway's last refresh; kept (as gone) for a while after it stops, so that sessions on it are known dead.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> LastSeen { get; set; } = [];

    /// <summary>Gateways that stopped on purpose.</summary>
    [Id(1)] public HashSet<string> Left { get; set; } = [];
}
