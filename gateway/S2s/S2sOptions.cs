using System.ComponentModel.DataAnnotations;

namespace Mmss.Gateway.S2s;

/// <summary>Section "Mmss:S2s": the server-to-server XMPP link to peer MMSS domains (RFC 6120, XEP-0220, XEP-0198).</summary>
public sealed class S2sOptions : IValidatableObject
{
    public const string Section = "Mmss:S2s";

    /// <summary>Listen for peers on <see cref="BindAddress"/>:<see cref="Port"/>. Outgoing links work either way, but a peer
    /// verifies our dialback keys by connecting back to our listener, so a domain that sends to peers enables it.</summary>
    public bool Enabled { get; set; }

    /// <summary>Address the listener binds to ("0.0.0.0" all IPv4, "::" all, or one address).</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Listener port; 5269 is the XMPP server-to-server port (RFC 6120 §14.7).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 5269;

    /// <summary>
    /// The secret dialback keys are derived from (XEP-0185). Every process serving this domain must share it: a peer may
    /// verify a key at a different process than the one that sent it. Empty: a random secret for this process alone, with
    /// a warning at start (fine for one process, wrong for a cluster). Never logged.
    /// </summary>
    public string DialbackSecret { get; set; } = "";

    /// <summary>Time allowed for the TCP connection to a peer.</summary>
    [Range(1, 600)]
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Time the peer has to acknowledge sent stanzas (XEP-0198 &lt;a/&gt;) and to answer each negotiation step (TLS,
    /// dialback, &lt;enable/&gt;); past it the link counts as failed and is opened anew on the next send.
    /// </summary>
    [Range(1, 3600)]
    public int AckTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// An outgoing link idle this long sends &lt;r/&gt; and expects &lt;a/&gt; within <see cref="AckTimeoutSeconds"/>: a peer
    /// gone silently (a dropped NAT entry, a dead host) is found before the next send has to wait for it. 0: never.
    /// </summary>
    [Range(0, 86400)]
    public int KeepaliveSeconds { get; set; } = 60;

    /// <summary>Time an incoming stream has to secure and authenticate itself before it is closed with connection-timeout.</summary>
    [Range(1, 3600)]
    public int NegotiationTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest stanza accepted from a peer; a bigger one ends the stream with policy-violation (as for terminals).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxStanzaBytes { get; set; } = 256 * 1024;

    /// <summary>Simultaneous incoming server-to-server connections (dialback verification connections included); one more
    /// is refused with resource-constraint.</summary>
    [Range(1, 100_000)]
    public int MaxInboundConnections { get; set; } = 1000;

    /// <summary>
    /// Require the peer's TLS certificate to chain to a trusted root and name the peer's domain. Off by default: peers are
    /// authenticated by dialback, and MMSS deployments commonly run self-signed certificates.
    /// </summary>
    public bool RequireValidCertificates { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(BindAddress, out _))
            yield return new ValidationResult($"Mmss:S2s:BindAddress '{BindAddress}' is not an IP address; use 0.0.0.0, :: or one of this host's addresses.");
    }
}
