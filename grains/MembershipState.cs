namespace Mmss.Grains;

[GenerateSerializer]
public sealed class MembershipState
{
    /// <summary>GDNs, kept sorted so that a roster lists them in a stable order.</summary>
    [Id(0)] public List<string> Groups { get; set; } = [];
}
