using System.IO.Pipelines;
using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Streams;
using Mmss.Gateway.Messaging;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// One client connection: one read loop, one write lock. Framing, TLS, stream errors and the close are the stream core's
/// (<see cref="XmppStreamCore"/>, shared with server-to-server streams); this class negotiates SASL, binds a resource
/// and hands stanzas to handlers; it knows no feature beyond session establishment.
/// </summary>
public sealed partial class C2sConnection
{
    private enum Next
    {
        Continue,
        StartTls,
        Close,
    }

    private readonly C2sServices _services;
    // Framing, TLS, the write lock, stream errors and the close: what this stream shares with server-to-server ones.
    private readonly XmppStreamCore _core;
    private ISaslServerMechanism? _sasl;
    private int _authFailures;
    private StanzaRateLimiter? _stanzaRate;
    private bool _rateLogged;   // one warning per connection, not one per stanza held back
    private long _pingCounter;
    private bool _handedOver;   // the session moved to a connection that resumed it
    private bool _sessionEnds;  // this connection's end also ends its session
    private string _listener;   // a metrics tag: which listener accepted it
    private readonly Grains.Diagnostics.LogScope _logScope;
    private readonly IAsyncDisposable? _ownedTransport;

    /// <param name="transportSecured">the transport below is already secure or trusted (XMPP over WebSocket, RFC 7395 §3.8: no STARTTLS)</param>
    /// <param name="overWebSocket">RFC 7395 §3.3.3: no XMPP-level compression over WebSocket</param>
    /// <param name="transportOutputCompleted">sends FIN once the transport's output is complete, where completing it does not (a socket's pipes)</param>
    /// <param name="ownedTransport">disposed when <see cref="RunAsync"/> ends (a socket's pipes), so that no caller waits on it for the connection's life</param>
    public C2sConnection(IDuplexPipe transport, EndPoint? remoteEndPoint, C2sServices services, bool transportSecured = false,
        bool overWebSocket = false, Action? transportOutputCompleted = null, IAsyncDisposable? ownedTransport = null)
    {
        _ownedTransport = ownedTransport;
        _overWebSocket = overWebSocket;
        _services = services;
        _core = new XmppStreamCore(transport, services.Options.MaxStanzaBytes, Namespaces.Client, services.Logger,
            WriteHeader, transportOutputCompleted, services.Time);
        Id = services.Connections.NextId();
        RemoteAddress = (remoteEndPoint as IPEndPoint)?.Address is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : "unknown";
        Domain = services.Domains.Default;
        IsSecure = transportSecured;
        ConnectedAt = services.Time.GetTimestamp();
        _listener = transportSecured ? Diagnostics.GatewayMetrics.ListenerWebSocket : Diagnostics.GatewayMetrics.ListenerStartTls;
        _logScope = Grains.Diagnostics.LogScope.ForConnection(Id);
    }

    public long Id { get; }

    public C2sServices Services => _services;

    public string RemoteAddress { get; }

    /// <summary>The JID domain of this stream: the client's 'to' when served, else the default (spec 7.1.1).</summary>
    public string Domain { get; private set; }

    public bool IsSecure { get; private set; }

    /// <summary>The authenticated UDN, once SASL has succeeded.</summary>
    public string? Udn { get; private set; }

    /// <summary>The bound session; it may outlive this connection when stream management lets it be resumed.</summary>
    public C2sSession? Session { get; private set; }

    public bool IsBound => Session is not null;

    public string? FullJid => Session?.FullJid;

    private StreamManagement? Sm => Session?.StreamManagement;

    public long ConnectedAt { get; }

    public long LastReceivedAt => _core.LastReceivedAt == 0 ? ConnectedAt : _core.LastReceivedAt;

    /// <summary>When the server's unanswered keepalive ping was sent; 0 when none is outstanding.</summary>
    public long PingSentAt { get; private set; }

    private ILogger Log => _services.Logger;

    public async Task RunAsync(bool directTls)
    {
        _services.Connections.Add(this);
        if (directTls) _listener = Diagnostics.GatewayMetrics.ListenerDirectTls;
        Diagnostics.GatewayMetrics.ConnectionOpened(_listener, IsSecure);
        using var logScope = _services.LogScopes.Begin(Log, _logScope);
        try
        {
            if (directTls) await StartTlsAsync();
            if (_services.Connections.Count > _services.Options.MaxConnections)
            {
                Log.LogWarning("Connection {ConnectionId} from {Address} refused: {Count} connections exceed the limit {Limit}",
                    Id, RemoteAddress, _services.Connections.Count, _services.Options.MaxConnections);
                await CloseAsync(StreamErrorCondition.ResourceConstraint, "too many connections");
                return;
            }
            if (_services.Readiness.IsStopping)
            {
                await CloseAsync(StreamErrorCondition.SystemShutdown, "the server is shutting down");
                return;
            }
            // The read loop is here rather than in a method of its own: an idle connection waits in it, and each async
            // method it waits through holds a state machine for the connection's whole life.
            while (!_core.IsClosing)
            {
                var token = await _core.ReadAsync();
                switch (token.Kind)
                {
                    case StreamTokenKind.Header:
                        await OpenStreamAsync(token.Element!, _core.Scope!);
                        break;
                    case StreamTokenKind.End:
                        // What the terminal sent before its close is answered before ours (a FAIL, say).
                        await DrainMessagesInFlightAsync();
                        await CloseGracefullyAsync();
                        return;
                    case StreamTokenKind.Element:
                        await KeepToStanzaRateAsync();
                        var next = await HandleStanzaAsync(token.Element!);
                        if (next == Next.Close) return;
                        if (next == Next.StartTls) await StartTlsAsync();
                        break;
                    default:
                        return;
                }
            }
        }
        catch (XmppStreamException e)
        {
            Log.LogInformation("Stream {ConnectionId} from {Address} ({Udn}) ended with {Condition}: {Reason}",
                Id, RemoteAddress, Udn ?? "unauthenticated", e.Condition.ToElementName(), e.Message);
            await CloseAsync(e.Condition, e.Text);
        }
        catch (AuthenticationException e)
        {
            Log.LogInformation("TLS handshake with {Address} failed: {Reason}", RemoteAddress, e.Message);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException)
        {
            Log.LogDebug("Connection {ConnectionId} from {Address} dropped: {Reason}", Id, RemoteAddress, e.Message);
        }
        catch (Exception e)
        {
            Log.LogError(e, "Connection {ConnectionId} from {Address} failed", Id, RemoteAddress);
            await CloseAsync(StreamErrorCondition.InternalServerError, null);
        }
        finally
        {
            try
            {
                await LeaveSessionAsync();
                _services.Connections.Remove(this);
                Diagnostics.GatewayMetrics.ConnectionClosed(_listener, IsSecure);
                await ShutdownTransportAsync();
            }
            catch (Exception e)
            {
                Log.LogWarning(e, "Connection {ConnectionId} from {Address} ended with an error", Id, RemoteAddress);
            }
            finally
            {
                if (_ownedTransport is not null) await _ownedTransport.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Mmss:C2s:MaxStanzasPerSecond, once authenticated (before, the login timeout and the authentication throttle
    /// apply): past the rate the stream is not read for a while, so TCP backpressure slows this sender and no one else,
    /// or it is cut.
    /// </summary>
    private ValueTask KeepToStanzaRateAsync()
    {
        if (Udn is null || _services.Options.MaxStanzasPerSecond == 0) return ValueTask.CompletedTask;
        var time = _services.Time;
        _stanzaRate ??= new StanzaRateLimiter(_services.Options.MaxStanzasPerSecond, _services.Options.StanzaBurst,
            time.TimestampFrequency, time.GetTimestamp());
        var wait = _stanzaRate.Take(time.GetTimestamp());
        if (wait == 0) return ValueTask.CompletedTask;
        if (_services.Options.StanzaRatePolicy == StanzaRatePolicy.Cut)
            throw new XmppStreamException(StreamErrorCondition.PolicyViolation, "too many stanzas per second");
        if (!_rateLogged)
        {
            _rateLogged = true;
            Log.LogWarning("{Udn} on connection {ConnectionId} from {Address} exceeds {Rate} stanzas/s; its stream is read more slowly",
                Udn, Id, RemoteAddress, _services.Options.MaxStanzasPerSecond);
        }
        return new ValueTask(Task.Delay(TimeSpan.FromSeconds(wait / (double)time.TimestampFrequency), time));
    }

    private async ValueTask<Next> HandleStanzaAsync(XmlElement stanza)
    {
        if (Log.IsEnabled(LogLevel.Trace)) Log.LogTrace("C2S {ConnectionId} <- {Stanza}", Id, stanza);

        if (stanza.Namespace == Namespaces.Tls) return await HandleStartTlsAsync(stanza);
        if (stanza.Namespace == Namespaces.Sasl)
        {
            await HandleSaslAsync(stanza);
            return Next.Continue;
        }
        if (stanza.Namespace == Namespaces.StreamManagement)
        {
            await HandleStreamManagementAsync(stanza);
            return Next.Continue;
        }
        if (stanza.Namespace == Namespaces.Compress)
        {
            await HandleCompressAsync(stanza);
            return Next.Continue;
        }
        if (Udn is null && !IsPreAuthenticationIq(stanza)) throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "authenticate first");
        if (stanza.Namespace != Namespaces.Client) throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType, $"<{stanza.Name} xmlns='{stanza.Namespace}'/> is not supported");
        Diagnostics.GatewayMetrics.StanzaReceived(stanza.Name);
        switch (stanza.Name)
        {
            case "iq":
                // RFC 6120 §10.1, in-order processing: an answer (a ping's, say) tells the terminal that everything it
                // sent before was handled, so the messages still being stored finish first.
                await DrainMessagesInFlightAsync();
                await HandleIqAsync(stanza);
                break;
            case "presence":
                RequireBound();
                await DrainMessagesInFlightAsync();
                await _services.Presence.HandleAsync(this, stanza);
                break;
            case "message":
                RequireBound();
                // Counted for XEP-0198 by the routing, once it and the messages before it are handled.
                await RouteMessageAsync(stanza);
                return Next.Continue;
            default:
                throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType, $"<{stanza.Name}/> is not a stanza");
        }
        // XEP-0198 §4: the count of stanzas handled, which the client asks for with <r/>.
        Sm?.CountHandled();
        return Next.Continue;
    }

    private void RequireBound()
    {
        if (!IsBound) throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "bind a resource first");
    }

    private async ValueTask OpenStreamAsync(XmlElement header, NamespaceScope scope)
    {
        Domain = _services.Domains.Resolve(header.Attribute("to"));
        await WriteHeaderAsync();
        if (header.Namespace != Namespaces.Streams)
            throw new XmppStreamException(StreamErrorCondition.InvalidNamespace, "the stream namespace must be http://etherx.jabber.org/streams");
        if (header.Name != "stream") throw new XmppStreamException(StreamErrorCondition.BadFormat, "the root element must be <stream:stream>");
        if (scope.DefaultNamespace != Namespaces.Client)
            throw new XmppStreamException(StreamErrorCondition.InvalidNamespace, "the content namespace must be jabber:client");
        if (header.Attribute("version") is { } version && !version.StartsWith("1.", StringComparison.Ordinal) && version != "1")
            throw new XmppStreamException(StreamErrorCondition.UnsupportedVersion, "only XMPP 1.0 is spoken");
        await WriteFeaturesAsync();
    }

    private async ValueTask HandleIqAsync(XmlElement iq)
    {
        var type = iq.Attribute("type");
        if (type is "result" or "error")
        {
            // Answers to the server's keepalive pings; any traffic already counts as a sign of life.
            PingSentAt = 0;
            return;
        }
        if (type is not ("get" or "set") || iq.Attribute("id") is null)
        {
            await SendAsync(StanzaErrors.BadRequest(iq, Domain));
            return;
        }
        var payload = iq.FirstElement();
        var handler = payload is null ? null : _services.IqRouter.Find(payload);
        if (handler is null || payload is null)
        {
            RequireBound();
            await SendAsync(StanzaErrors.ServiceUnavailable(iq, Domain));
            return;
        }
        if (handler.RequiresBoundSession) RequireBound();
        await handler.HandleAsync(this, iq, payload);
    }

    /// <summary>Binds the resource; a session already bound to the same full JID is closed with conflict.</summary>
    public string Bind(string resource)
    {
        var session = new C2sSession(_services, Udn!, Domain, resource, Id, RemoteAddress);
        Session = session;
        session.AttachConnection(this);
        var previous = _services.Sessions.Register(session);
        Log.LogInformation("{Udn} bound {FullJid} on connection {ConnectionId}", Udn, session.FullJid, Id);
        if (previous is not null)
        {
            Log.LogInformation("{FullJid}: session {Old} replaced by {New}", session.FullJid, previous.SessionId, session.SessionId);
            _ = previous.ReplaceAsync();
        }
        return session.FullJid;
    }

    /// <summary>An empty result for an iq, addressed back to its sender.</summary>
    public XmlElement ResultFor(XmlElement iq) => new XmlElement("iq", Namespaces.Client)
        .SetAttribute("type", "result")
        .SetAttribute("id", iq.Attribute("id"))
        .SetAttribute("from", iq.Attribute("to"))
        .SetAttribute("to", FullJid);

    /// <summary>
    /// What the end of this connection means for its session: with resumable stream management and no clean close,
    /// the session waits for the terminal to resume it (XEP-0198 §5); otherwise it ends.
    /// </summary>
    private async Task LeaveSessionAsync()
    {
        if (Session is not { } session || _handedOver) return;
        if (session.StreamManagement is { Resumable: true } && !_sessionEnds)
        {
            session.DetachConnection(this, _services.Time.GetTimestamp());
            Log.LogInformation("{FullJid}: connection {ConnectionId} lost; session kept for resumption", session.FullJid, Id);
            return;
        }
        await session.EndAsync();
    }
}
