namespace Mmss.Silo.Health;

/// <summary>The silo's HTTP listener for orchestration probes (section Mmss:Health).</summary>
public sealed class MmssHealthOptions
{
    public const string Section = "Mmss:Health";

    public string BindAddress { get; set; } = "0.0.0.0";

    public int Port { get; set; } = 8081;
}
