namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// One peer MMSS as configured (<c>Mmss:Peers:N</c>): the domain its JIDs use (its server IP, spec 7.1.1), where its
/// server-to-server listener and attachment endpoint are, and the dial numbers it is home for (seed 6.5).
/// </summary>
public sealed class PeerOptions
{
    /// <summary>The peer's JID domain, e.g. <c>10.0.0.3</c>.</summary>
    public string Domain { get; set; } = "";

    /// <summary>Its server-to-server listener, <c>host:port</c> (port 5269 when omitted).</summary>
    public string Address { get; set; } = "";

    /// <summary>Its attachment endpoint's base address, e.g. <c>http://10.0.0.3:8080</c>.</summary>
    public string HttpAddress { get; set; } = "";

    /// <summary>UDN ranges it is home for: <c>2000-2999,3100</c>.</summary>
    public string Udns { get; set; } = "";

    /// <summary>GDN ranges it is home for, the same syntax.</summary>
    public string Gdns { get; set; } = "";

    /// <summary>
    /// The secret both sides share for this pair of domains: it authenticates attachment uploads between them (HTTP
    /// Basic, user = the sending domain). Never logged.
    /// </summary>
    public string Secret { get; set; } = "";

    /// <summary>
    /// When the peer presents another secret than the one we present to it: that one. Unset: <see cref="Secret"/> both ways.
    /// Only its hash is kept in memory.
    /// </summary>
    public string InboundSecret { get; set; } = "";

    public PeerRecord ToRecord()
    {
        var inbound = InboundSecret.Length > 0 ? InboundSecret : Secret;
        return new PeerRecord(Domain, Address, HttpAddress, Udns, Gdns, Secret, inbound.Length > 0 ? PeerSecretHash.Hash(inbound) : null);
    }
}
