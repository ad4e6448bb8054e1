using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Mmss.Gateway.Streams;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.S2s;

/// <summary>
/// One incoming server-to-server stream (RFC 6120, jabber:server): STARTTLS required, then server dialback — as the
/// receiving server (&lt;db:result/&gt;: a peer authenticates a domain, verified against that domain's authoritative
/// address from our peer table) and as the authoritative server (&lt;db:verify/&gt;: a peer checks a key we sent) — then
/// XEP-0198 and the peer's stanzas, handed in order to <see cref="IS2sInboundHandler"/>.
/// </summary>
/// <remarks>
/// Refusals (RFC 6120 §4.9.3, XEP-0220 §2.4):
/// 'to' not a domain we serve → host-unknown; a 'from' (header or db:result) not in the peer table → policy-violation
/// (federation here is by local policy: only configured peers); anything but STARTTLS before TLS → policy-violation;
/// a stanza before dialback succeeded → not-authorized; a dialback key found invalid → db:result type='invalid', then
/// not-authorized; a stanza whose 'from' domain is not authenticated on this stream → invalid-from; a stanza without
/// 'from' or 'to' → improper-addressing; a stanza too large → policy-violation.
/// </remarks>
public sealed class S2sInboundConnection
{
    private static readonly byte[] Proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"u8.ToArray();
    private static readonly byte[] TlsFailure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"u8.ToArray();

    private readonly ConnectionContext _context;
    private readonly S2sServices _services;
    private readonly IS2sInboundHandler _handler;
    private readonly XmppStreamCore _core;
    private readonly CancellationTokenSource _aborted = new();
    // Domain pairs authenticated on this stream (XEP-0220 §2.5 lets one stream carry several): originating → peer, and
    // the (originating, receiving) pairs stanzas may travel between.
    private readonly Dictionary<string, Peer> _originating = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<(string From, string To)> _pairs = [];
    private string _localDomain;
    private string? _remoteDomain;
    private string _streamId = "";
    private bool _smEnabled;
    private uint _handled;
    // Stanzas handed to the handler and not yet counted: a peer's batch is stored concurrently (one commit for many,
    // not one each); <r/> waits for all of them, so h still counts only handled stanzas.
    private readonly Queue<Task> _inFlight = new();
    private const int MaxInFlight = 256;

    public S2sInboundConnection(ConnectionContext context, S2sServices services, IS2sInboundHandler handler)
    {
        _context = context;
        _services = services;
        _handler = handler;
        _localDomain = services.Domains.Default;
        _core = new XmppStreamCore(context.Transport, services.Options.MaxStanzaBytes, Namespaces.Server, services.Logger,
            output => S2sXml.WriteHeader(output, _localDomain, _remoteDomain, _streamId));
        RemoteAddress = (context.RemoteEndPoint as IPEndPoint)?.Address is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : "unknown";
    }

    public string RemoteAddress { get; }

    private ILogger Log => _services.Logger;

    private string Authenticated => _originating.Count == 0 ? "unauthenticated" : string.Join(",", _originating.Keys);

    public async Task RunAsync()
    {
        var count = _services.InboundOpened();
        // A stream that neither secures nor authenticates itself in time holds a socket for nothing.
        using var negotiation = new CancellationTokenSource(TimeSpan.FromSeconds(_services.Options.NegotiationTimeoutSeconds));
        await using var timeout = negotiation.Token.Register(() =>
        {
            if (_originating.Count == 0) _ = _core.CloseAsync(StreamErrorCondition.ConnectionTimeout, "not authenticated in time");
        });
        // Host stop (Kestrel asks its connections to close): RFC 6120 §4.9.3.17 system-shutdown, so that the peer's link
        // fails at once and its sender retries elsewhere or later, rather than waiting for its ack timeout.
        var closeRequested = _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        await using var stopping = closeRequested.Register(() =>
        {
            // A stanza in the handler now is abandoned unacknowledged: the peer sends it again later.
            _aborted.Cancel();
            _ = _core.CloseAsync(StreamErrorCondition.SystemShutdown, "the server is shutting down");
        });
        try
        {
            if (count > _services.Options.MaxInboundConnections)
            {
                Log.LogWarning("S2S connection {ConnectionId} from {Address} refused: {Count} connections exceed the limit {Limit}",
                    _context.ConnectionId, RemoteAddress, count, _services.Options.MaxInboundConnections);
                NewStreamId();
                await _core.CloseAsync(StreamErrorCondition.ResourceConstraint, "too many server-to-server connections");
                return;
            }
            await ReadLoopAsync();
        }
        catch (XmppStreamException e)
        {
            Log.LogInformation("S2S stream {ConnectionId} from {Address} ({Domains}) ended with {Condition}: {Reason}",
                _context.ConnectionId, RemoteAddress, Authenticated, e.Condition.ToElementName(), e.Message);
            await _core.CloseAsync(e.Condition, e.Text);
        }
        catch (AuthenticationException e)
        {
            Log.LogInformation("S2S TLS handshake with {Address} failed: {Reason}", RemoteAddress, e.Message);
        }
        catch (OperationCanceledException) when (_aborted.IsCancellationRequested)
        {
            Log.LogDebug("S2S connection {ConnectionId} from {Address} aborted", _context.ConnectionId, RemoteAddress);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ObjectDisposedException)
        {
            Log.LogDebug("S2S connection {ConnectionId} from {Address} dropped: {Reason}", _context.ConnectionId, RemoteAddress, e.Message);
        }
        catch (Exception e)
        {
            Log.LogError(e, "S2S connection {ConnectionId} from {Address} ({Domains}) failed", _context.ConnectionId, RemoteAddress, Authenticated);
            await _core.CloseAsync(StreamErrorCondition.InternalServerError, null);
        }
        finally
        {
            _services.InboundClosed();
            await _aborted.CancelAsync();
            await _core.ShutdownAsync();
        }
    }

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            var token = await _core.ReadAsync();
            switch (token.Kind)
            {
                case StreamTokenKind.Header:
                    await OpenStreamAsync(token.Element!);
                    break;
                case StreamTokenKind.Element when S2sXml.IsStreamError(token.Element!):
                    Log.LogInformation("S2S stream {ConnectionId} from {Address} ({Domains}) ended by the peer with {Condition}",
                        _context.ConnectionId, RemoteAddress, Authenticated, S2sXml.StreamErrorCondition(token.Element!));
                    await _core.CloseGracefullyAsync(stopReading: false);
                    return;
                case StreamTokenKind.Element:
                    await HandleElementAsync(token.Element!);
                    break;
                case StreamTokenKind.End:
                    await _core.CloseGracefullyAsync(stopReading: false);
                    Log.LogDebug("S2S stream {ConnectionId} from {Address} ({Domains}) closed by the peer", _context.ConnectionId, RemoteAddress, Authenticated);
                    return;
                default:
                    return;
            }
        }
    }

    private void NewStreamId() => _streamId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private async ValueTask OpenStreamAsync(XmlElement header)
    {
        // RFC 6120 §4.7.3: a new id for every stream, the restart after TLS included; dialback keys are bound to it.
        NewStreamId();
        var to = header.Attribute("to");
        var from = header.Attribute("from");
        if (_services.Domains.IsServed(to)) _localDomain = to!.ToLowerInvariant();
        _remoteDomain = from;
        // Our header answers first: a stream error needs an open stream to travel in (RFC 6120 §4.9.1.1).
        await _core.SendHeaderAsync();
        if (header.Namespace != Namespaces.Streams)
            throw new XmppStreamException(StreamErrorCondition.InvalidNamespace, "the stream namespace must be http://etherx.jabber.org/streams");
        if (header.Name != "stream") throw new XmppStreamException(StreamErrorCondition.BadFormat, "the root element must be <stream:stream>");
        if (_core.Scope?.DefaultNamespace != Namespaces.Server)
            throw new XmppStreamException(StreamErrorCondition.InvalidNamespace, "the content namespace must be jabber:server");
        if (header.Attribute("version") is not { } version || !version.StartsWith('1'))
            throw new XmppStreamException(StreamErrorCondition.UnsupportedVersion, "only XMPP 1.0 streams are spoken (STARTTLS is required)");
        if (!_services.Domains.IsServed(to)) throw new XmppStreamException(StreamErrorCondition.HostUnknown, $"{to ?? "(no 'to')"} is not served here");
        if (from is not null) RequirePeer(from);
        await _core.WriteAsync(_core.IsSecure, static (output, secure) =>
        {
            if (!secure)
            {
                // RFC 6120 §5.3.1: TLS is mandatory-to-negotiate here.
                XmlWriter.WriteRaw(output, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"u8);
                return;
            }
            XmlWriter.WriteRaw(output, "<stream:features><dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback><sm xmlns='urn:xmpp:sm:3'/></stream:features>"u8);
        });
    }

    private Peer RequirePeer(string domain)
    {
        if (_services.Peers.FindByDomain(domain) is { } peer) return peer;
        Log.LogWarning("S2S connection {ConnectionId} from {Address} claims {Domain}, which is not in the peer table",
            _context.ConnectionId, RemoteAddress, domain);
        throw new XmppStreamException(StreamErrorCondition.PolicyViolation, $"{domain} is not a peer of this server");
    }

    private async ValueTask HandleElementAsync(XmlElement element)
    {
        if (Log.IsEnabled(LogLevel.Trace)) Log.LogTrace("S2S {ConnectionId} <- {Element}", _context.ConnectionId, element);
        if (element.Namespace == Namespaces.Tls)
        {
            await HandleStartTlsAsync(element);
            return;
        }
        if (!_core.IsSecure) throw new XmppStreamException(StreamErrorCondition.PolicyViolation, "STARTTLS is required first");
        switch (element.Namespace)
        {
            case S2sNamespaces.Dialback when element.Name == "result":
                await HandleDialbackResultAsync(element);
                return;
            case S2sNamespaces.Dialback when element.Name == "verify":
                await HandleDialbackVerifyAsync(element);
                return;
            case Namespaces.StreamManagement:
                await HandleStreamManagementAsync(element);
                return;
            case Namespaces.Server when element.Name is "message" or "presence" or "iq":
                await HandleStanzaAsync(element);
                return;
            default:
                throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType, $"<{element.Name} xmlns='{element.Namespace}'/> is not supported");
        }
    }

    private async ValueTask HandleStartTlsAsync(XmlElement element)
    {
        if (element.Name != "starttls" || _core.IsSecure)
        {
            // RFC 6120 §5.4.2.2: <failure/>, then the stream ends.
            await _core.WriteRawAsync(TlsFailure, closeAfter: true);
            await _core.CloseGracefullyAsync(stopReading: false);
            return;
        }
        // RFC 6120 §5.4.3.3: whatever followed <starttls/> in the clear is dropped before <proceed/> invites the ClientHello.
        _core.DiscardBufferedInput();
        await _core.WriteRawAsync(Proceed);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_aborted.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(_services.Options.NegotiationTimeoutSeconds));
        try
        {
            await _core.StartTlsAsServerAsync(_services.ServerTls(), timeout.Token);
        }
        catch (OperationCanceledException) when (!_aborted.IsCancellationRequested)
        {
            throw new AuthenticationException("the TLS handshake did not complete in time");
        }
        Log.LogDebug("S2S connection {ConnectionId} from {Address} secured with {Protocol}", _context.ConnectionId, RemoteAddress, _core.Tls!.SslProtocol);
    }

    /// <summary>XEP-0220 §2.1.1–2.1.4, as the receiving server: verify the key at the originating domain's own address.</summary>
    private async ValueTask HandleDialbackResultAsync(XmlElement result)
    {
        var from = result.Attribute("from")?.ToLowerInvariant();
        var to = result.Attribute("to")?.ToLowerInvariant();
        var key = result.Text;
        if (from is null || to is null) throw new XmppStreamException(StreamErrorCondition.ImproperAddressing, "<db:result/> needs 'from' and 'to'");
        if (result.Attribute("type") is not null || key.Length == 0) throw new XmppStreamException(StreamErrorCondition.BadFormat, "<db:result/> without a key");
        if (!_services.Domains.IsServed(to)) throw new XmppStreamException(StreamErrorCondition.HostUnknown, $"{to} is not served here");
        var peer = RequirePeer(from);
        bool valid;
        try
        {
            valid = await DialbackVerifier.VerifyAsync(_services, peer, to, _streamId, key, _aborted.Token);
        }
        catch (S2sLinkException e)
        {
            // XEP-0220 §2.4: the authoritative server could not be asked; the originating server may try again later.
            Log.LogWarning("S2S dialback for {Peer}: its authoritative server {Host}:{Port} could not verify the key: {Reason}",
                peer.Domain, peer.Host, peer.Port, e.Message);
            await _core.WriteAsync((to, from), static (output, s) =>
            {
                XmlWriter.WriteRaw(output, "<db:result type='error' from='"u8);
                XmlWriter.WriteEscaped(output, s.to, escapeQuotes: true);
                XmlWriter.WriteRaw(output, "' to='"u8);
                XmlWriter.WriteEscaped(output, s.from, escapeQuotes: true);
                XmlWriter.WriteRaw(output, "'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></db:result>"u8);
            });
            return;
        }
        await _core.WriteAsync((to, from, valid), static (output, s) =>
            S2sXml.WriteDialback(output, "result", s.to, s.from, id: null, s.valid ? "valid" : "invalid", key: null));
        if (!valid)
        {
            Log.LogWarning("S2S dialback for {Peer} from {Address} refused: its authoritative server found the key invalid", peer.Domain, RemoteAddress);
            throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "dialback key invalid");
        }
        _originating[from] = peer;
        _pairs.Add((from, to));
        Log.LogInformation("S2S stream {ConnectionId} from {Address} authenticated {Peer} -> {Local} by dialback",
            _context.ConnectionId, RemoteAddress, peer.Domain, to);
    }

    /// <summary>XEP-0220 §2.1.3, as the authoritative server: is this the key we would have sent for that stream?</summary>
    private async ValueTask HandleDialbackVerifyAsync(XmlElement verify)
    {
        var receiving = verify.Attribute("from");
        var originating = verify.Attribute("to");
        var id = verify.Attribute("id");
        if (receiving is null || originating is null || id is null)
            throw new XmppStreamException(StreamErrorCondition.ImproperAddressing, "<db:verify/> needs 'from', 'to' and 'id'");
        var valid = _services.Domains.IsServed(originating) && _services.Keys.Verify(receiving, originating, id, verify.Text);
        Log.LogDebug("S2S dialback verification from {Receiving} for {Originating} stream {StreamId}: {Result}",
            receiving, originating, id, valid ? "valid" : "invalid");
        await _core.WriteAsync((originating, receiving, id, valid), static (output, s) =>
            S2sXml.WriteDialback(output, "verify", s.originating, s.receiving, s.id, s.valid ? "valid" : "invalid", key: null));
    }

    private async ValueTask HandleStreamManagementAsync(XmlElement element)
    {
        switch (element.Name)
        {
            case "enable":
                if (_originating.Count == 0 || _smEnabled)
                {
                    // XEP-0198 §3: enabling before authentication, or twice, is unexpected.
                    await _core.WriteRawAsync("<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"u8.ToArray());
                    return;
                }
                _smEnabled = true;
                // Not resumable: the sender keeps its queue and resends on a new stream; the relay deduplicates.
                await _core.WriteRawAsync("<enabled xmlns='urn:xmpp:sm:3'/>"u8.ToArray());
                return;
            case "r" when _smEnabled:
                await DrainInFlightAsync();
                // Read in stream order after every stanza before it was handled: h counts exactly those.
                await _core.WriteAsync(_handled, static (output, h) =>
                {
                    XmlWriter.WriteRaw(output, "<a xmlns='urn:xmpp:sm:3' h='"u8);
                    XmlWriter.WriteString(output, h.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    XmlWriter.WriteRaw(output, "'/>"u8);
                });
                _services.CountAcknowledgementSent();
                return;
            default:
                // <a/> for stanzas we never send on an incoming stream, or <r/> before <enable/>: nothing to do.
                return;
        }
    }

    private async ValueTask HandleStanzaAsync(XmlElement stanza)
    {
        if (_originating.Count == 0) throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "authenticate with dialback first");
        var fromDomain = S2sXml.DomainOf(stanza.Attribute("from"));
        var toDomain = S2sXml.DomainOf(stanza.Attribute("to"));
        // RFC 6120 §8.1.1.2, §8.1.2.2: between servers both addresses are required.
        if (fromDomain is null || toDomain is null) throw new XmppStreamException(StreamErrorCondition.ImproperAddressing, "stanzas between servers need 'from' and 'to'");
        // RFC 6120 §4.9.3.9: a 'from' this stream has not authenticated is a forgery.
        if (!_originating.ContainsKey(fromDomain))
        {
            Log.LogWarning("S2S stream {ConnectionId} of {Domains} sent a stanza from {From}: refused as forged",
                _context.ConnectionId, Authenticated, stanza.Attribute("from"));
            throw new XmppStreamException(StreamErrorCondition.InvalidFrom, $"{fromDomain} is not authenticated on this stream");
        }
        // The peer table changes at run time (admin API): a peer removed since the stream opened speaks no more, and a
        // changed one is held to its numbers as they are now.
        var peer = _services.Peers.FindByDomain(fromDomain) ??
            throw new XmppStreamException(StreamErrorCondition.PolicyViolation, $"{fromDomain} is no longer a peer of this server");
        if (!_pairs.Contains((fromDomain.ToLowerInvariant(), toDomain.ToLowerInvariant())))
            throw new XmppStreamException(StreamErrorCondition.HostUnknown, $"{fromDomain} -> {toDomain} is not authenticated on this stream");
        _services.CountStanzaReceived();
        var handling = _handler.HandleAsync(peer, stanza, _aborted.Token);
        if (handling.IsCompletedSuccessfully && _inFlight.Count == 0)
        {
            // XEP-0198 §4: counted only once handled, so an <a h/> means "handled", not "read".
            _handled = unchecked(_handled + 1);
            return;
        }
        _inFlight.Enqueue(handling.AsTask());
        if (_inFlight.Count >= MaxInFlight) await CountOldestAsync();
    }

    private async ValueTask CountOldestAsync()
    {
        // The grains receive the calls in stream order; a failure ends the stream here as it did when awaited in turn.
        await _inFlight.Dequeue();
        _handled = unchecked(_handled + 1);
    }

    private async ValueTask DrainInFlightAsync()
    {
        while (_inFlight.Count > 0) await CountOldestAsync();
    }
}
