using System.ComponentModel.DataAnnotations;

namespace Mmss.Silo;

/// <summary>Ports of the Orleans silo (section Mmss:Orleans). In embedded mode both listen on loopback only.</summary>
public sealed class OrleansEndpointOptions
{
    public const string Section = "Mmss:Orleans";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port Orleans clients (gateway pods) connect to.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;
}
