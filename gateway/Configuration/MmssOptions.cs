namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss": where data lives and which JID domains this server answers to.</summary>
public sealed class MmssOptions
{
    public const string Section = "Mmss";

    /// <summary>Grain state, the TLS certificate and the admin token live here (embedded mode).</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>
    /// JID domains served; per spec the domain is the server's IP. The first is the default for streams whose 'to'
    /// is missing or unknown. Empty: "localhost" plus every address of this host.
    /// </summary>
    public List<string> Domains { get; set; } = [];
}
