using System.Net.Security;
using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Hosting;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Gateway.S2s;

/// <summary>What every server-to-server stream shares: options, our domains, the peer table, TLS and dialback keys.</summary>
public sealed class S2sServices(
    IOptions<S2sOptions> options,
    ServedDomains domains,
    PeerTable peers,
    ServerCertificateHolder certificate,
    DialbackKeys keys,
    TimeProvider time,
    ILoggerFactory loggerFactory)
{
    private int _inboundConnections;
    private long _stanzasReceived, _acknowledgementsSent, _stanzasSent, _acknowledgementsReceived, _linksOpened, _linkFailures;

    public S2sOptions Options { get; } = options.Value;
    public ServedDomains Domains { get; } = domains;
    public PeerTable Peers { get; } = peers;
    public ServerCertificateHolder Certificate { get; } = certificate;
    public DialbackKeys Keys { get; } = keys;
    public TimeProvider Time { get; } = time;
    public ILogger Logger { get; } = loggerFactory.CreateLogger("Mmss.S2s");

    public TimeSpan ConnectTimeout => TimeSpan.FromSeconds(Options.ConnectTimeoutSeconds);
    public TimeSpan AckTimeout => TimeSpan.FromSeconds(Options.AckTimeoutSeconds);

    /// <summary>Incoming connections open now.</summary>
    public int InboundConnections => Volatile.Read(ref _inboundConnections);

    // Counters (style: connections, stanzas, deliveries), for monitoring and for tests that wait on what happened.

    /// <summary>Stanzas from peers handled (the handler completed).</summary>
    public long StanzasReceived => Interlocked.Read(ref _stanzasReceived);

    /// <summary>&lt;a h/&gt; answers sent to peers' &lt;r/&gt;.</summary>
    public long AcknowledgementsSent => Interlocked.Read(ref _acknowledgementsSent);

    /// <summary>Stanzas written to peers.</summary>
    public long StanzasSent => Interlocked.Read(ref _stanzasSent);

    /// <summary>&lt;a h/&gt; received from peers.</summary>
    public long AcknowledgementsReceived => Interlocked.Read(ref _acknowledgementsReceived);

    /// <summary>Outgoing links opened (authenticated and stream management enabled).</summary>
    public long LinksOpened => Interlocked.Read(ref _linksOpened);

    /// <summary>Outgoing links that failed (not counting those this server closed).</summary>
    public long LinkFailures => Interlocked.Read(ref _linkFailures);

    internal void CountStanzaReceived() => Interlocked.Increment(ref _stanzasReceived);
    internal void CountAcknowledgementSent() => Interlocked.Increment(ref _acknowledgementsSent);
    internal void CountStanzasSent(int count) => Interlocked.Add(ref _stanzasSent, count);
    internal void CountAcknowledgementReceived() => Interlocked.Increment(ref _acknowledgementsReceived);
    internal void CountLinkOpened() => Interlocked.Increment(ref _linksOpened);
    internal void CountLinkFailure() => Interlocked.Increment(ref _linkFailures);

    internal int InboundOpened() => Interlocked.Increment(ref _inboundConnections);

    internal void InboundClosed() => Interlocked.Decrement(ref _inboundConnections);

    internal SslServerAuthenticationOptions ServerTls() => new()
    {
        ServerCertificateContext = Certificate.Context,
        // Peers authenticate by dialback; a certificate is not asked for (SASL EXTERNAL is not offered).
        ClientCertificateRequired = false,
    };

    internal SslClientAuthenticationOptions ClientTls(string peerDomain) => new()
    {
        TargetHost = peerDomain,
        // Dialback authenticates the peer (XEP-0220 §1); only when asked do we also insist on a valid chain and name.
        RemoteCertificateValidationCallback = Options.RequireValidCertificates ? null : static (_, _, _, _) => true,
    };
}
