using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Mmss.Gateway.Messaging;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// One client connection: one read loop over the pipe, one write lock. It frames the stream, negotiates TLS and SASL,
/// binds a resource and hands stanzas to handlers; it knows no feature beyond session establishment.
/// </summary>
public sealed class C2sConnection
{
    private enum Next
    {
        Continue,
        StartTls,
        Close,
    }

    private static readonly byte[] StreamErrorOpen = "<stream:error>"u8.ToArray();
    private static readonly byte[] StreamErrorClose = "</stream:error></stream:stream>"u8.ToArray();

    private readonly ConnectionContext _context;
    private readonly C2sServices _services;
    private readonly XmlStreamFramer _framer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private PipeReader _input;
    private PipeWriter _output;
    private SslStream? _tls;
    private NamespaceScope? _scope;
    private ISaslServerMechanism? _sasl;
    private bool _headerSent;
    private bool _outputClosed;
    private int _closing;
    private int _authFailures;
    private long _pingCounter;
    private string? _fullJid;
    private bool _userAttached;
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public C2sConnection(ConnectionContext context, C2sServices services)
    {
        _context = context;
        _services = services;
        _framer = new XmlStreamFramer(services.Options.MaxStanzaBytes);
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        Id = services.Connections.NextId();
        RemoteAddress = (context.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
        Domain = services.Domains.Default;
        ConnectedAt = LastReceivedAt = services.Time.GetTimestamp();
    }

    public long Id { get; }

    /// <summary>How grains name this session when they push deliveries to this gateway.</summary>
    public string SessionId => Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public C2sServices Services => _services;

    public string RemoteAddress { get; }

    /// <summary>The JID domain of this stream: the client's 'to' when served, else the default (spec 7.1.1).</summary>
    public string Domain { get; private set; }

    public bool IsSecure { get; private set; }

    /// <summary>The authenticated UDN, once SASL has succeeded.</summary>
    public string? Udn { get; private set; }

    public bool IsBound => _fullJid is not null;

    public string? FullJid => _fullJid;

    public long ConnectedAt { get; }

    public long LastReceivedAt { get; private set; }

    /// <summary>When the server's unanswered keepalive ping was sent; 0 when none is outstanding.</summary>
    public long PingSentAt { get; private set; }

    private ILogger Log => _services.Logger;

    public async Task RunAsync(bool directTls)
    {
        _services.Connections.Add(this);
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
            await ReadLoopAsync();
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
            if (_fullJid is not null) _services.Sessions.Unregister(_fullJid, this);
            await DetachFromUserAsync();
            _services.Connections.Remove(this);
            await ShutdownTransportAsync();
        }
    }

    private async Task ReadLoopAsync()
    {
        while (Volatile.Read(ref _closing) == 0)
        {
            var input = _input;
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            LastReceivedAt = _services.Time.GetTimestamp();
            var next = Next.Continue;
            try
            {
                while (next == Next.Continue && Volatile.Read(ref _closing) == 0 && _framer.TryReadToken(buffer, out var kind, out var end))
                {
                    next = await HandleTokenAsync(kind, buffer.Slice(0, end));
                    buffer = buffer.Slice(end);
                }
            }
            finally
            {
                // RFC 6120 §5.4.3.3: after <proceed/> nothing sent in the clear may be kept.
                if (next == Next.StartTls) input.AdvanceTo(buffer.End);
                else input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (next == Next.Close) return;
            if (next == Next.StartTls)
            {
                await StartTlsAsync();
                continue;
            }
            if (result.IsCompleted || result.IsCanceled) return;
        }
    }

    private async ValueTask<Next> HandleTokenAsync(XmlTokenKind kind, ReadOnlySequence<byte> token)
    {
        switch (kind)
        {
            case XmlTokenKind.Ignorable:
                return Next.Continue;
            case XmlTokenKind.StreamHeader:
                await OpenStreamAsync(XmlParser.ParseStreamHeader(token, out var scope), scope);
                return Next.Continue;
            case XmlTokenKind.StreamEnd:
                await CloseGracefullyAsync();
                return Next.Close;
        }

        if (_scope is null) throw XmppStreamException.NotWellFormed("stanza before the stream header");
        var stanza = XmlParser.ParseStanza(token, _scope);
        if (Log.IsEnabled(LogLevel.Trace)) Log.LogTrace("C2S {ConnectionId} <- {Stanza}", Id, stanza);

        if (stanza.Namespace == Namespaces.Tls) return await HandleStartTlsAsync(stanza);
        if (stanza.Namespace == Namespaces.Sasl)
        {
            await HandleSaslAsync(stanza);
            return Next.Continue;
        }
        if (Udn is null) throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "authenticate first");
        if (stanza.Namespace != Namespaces.Client) throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType, $"<{stanza.Name} xmlns='{stanza.Namespace}'/> is not supported");
        switch (stanza.Name)
        {
            case "iq":
                await HandleIqAsync(stanza);
                break;
            case "presence":
                RequireBound();
                break;
            case "message":
                RequireBound();
                await _services.Messages.RouteAsync(this, stanza);
                break;
            default:
                throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType, $"<{stanza.Name}/> is not a stanza");
        }
        return Next.Continue;
    }

    private void RequireBound()
    {
        if (!IsBound) throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "bind a resource first");
    }

    private async ValueTask OpenStreamAsync(XmlElement header, NamespaceScope scope)
    {
        _scope = scope;
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

    private async ValueTask<Next> HandleStartTlsAsync(XmlElement stanza)
    {
        if (stanza.Name != "starttls" || IsSecure || Udn is not null)
        {
            await WriteRawAsync("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"u8.ToArray(), closeAfter: true);
            return Next.Close;
        }
        await WriteRawAsync("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"u8.ToArray());
        return Next.StartTls;
    }

    private async Task StartTlsAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            var tls = new SslStream(new DuplexPipeStream(_context.Transport), leaveInnerStreamOpen: false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_services.Options.LoginTimeoutSeconds));
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = _services.Certificate.Context,
                ClientCertificateRequired = false,
            }, timeout.Token);
            _tls = tls;
            _input = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true));
            _output = PipeWriter.Create(tls, new StreamPipeWriterOptions(leaveOpen: true));
            IsSecure = true;
            RestartStream();
            Log.LogDebug("Connection {ConnectionId} from {Address} secured with {Protocol}", Id, RemoteAddress, tls.SslProtocol);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void RestartStream()
    {
        // RFC 6120 §4.3.3: after TLS and after SASL success both sides start a new stream.
        _framer.Reset();
        _scope = null;
        _headerSent = false;
    }

    private async ValueTask HandleSaslAsync(XmlElement stanza)
    {
        if (Udn is not null) throw new XmppStreamException(StreamErrorCondition.PolicyViolation, "already authenticated");
        SaslStep step;
        switch (stanza.Name)
        {
            case "auth":
                if (!IsSecure && !_services.Options.AllowPlaintext)
                {
                    await SaslFailureAsync(SaslFailure.EncryptionRequired, "authentication before STARTTLS", null, countsAsFailure: false);
                    return;
                }
                if (_services.Throttle.IsAddressBlocked(RemoteAddress))
                {
                    await SaslFailureAsync(SaslFailure.TemporaryAuthFailure, "too many failures from this address", null, countsAsFailure: false);
                    return;
                }
                var mechanism = stanza.Attribute("mechanism");
                _sasl = SaslMechanisms.Create(mechanism, _services.Credentials.LookupAsync, Domain, _services.Domains.All);
                if (_sasl is null)
                {
                    await SaslFailureAsync(SaslFailure.InvalidMechanism, $"mechanism '{mechanism}' is not offered", null, countsAsFailure: true);
                    return;
                }
                if (!TryDecode(stanza.Text, out var initial))
                {
                    await SaslFailureAsync(SaslFailure.IncorrectEncoding, "initial response is not base64", null, countsAsFailure: true);
                    return;
                }
                step = await _sasl.StepAsync(initial, isInitial: true);
                break;
            case "response":
                if (_sasl is null)
                {
                    await SaslFailureAsync(SaslFailure.MalformedRequest, "<response/> without <auth/>", null, countsAsFailure: true);
                    return;
                }
                if (!TryDecode(stanza.Text, out var response))
                {
                    await SaslFailureAsync(SaslFailure.IncorrectEncoding, "response is not base64", null, countsAsFailure: true);
                    return;
                }
                step = await _sasl.StepAsync(response, isInitial: false);
                break;
            case "abort":
                _sasl = null;
                await SaslFailureAsync(SaslFailure.Aborted, "client aborted", null, countsAsFailure: false);
                return;
            default:
                await SaslFailureAsync(SaslFailure.MalformedRequest, $"<{stanza.Name}/> is not a SASL element", null, countsAsFailure: true);
                return;
        }

        switch (step.Kind)
        {
            case SaslStepKind.Challenge:
                await WriteSaslAsync("challenge", step.Data);
                return;
            case SaslStepKind.Failure:
                await SaslFailureAsync(step.Failure, step.Reason ?? "failed", step.Username, countsAsFailure: true);
                return;
        }

        var udn = step.Username!;
        if (_services.Throttle.IsUserBlocked(udn))
        {
            await SaslFailureAsync(SaslFailure.TemporaryAuthFailure, "too many recent failures for this user", udn, countsAsFailure: false);
            return;
        }
        Udn = udn;
        Log.LogInformation("{Udn} authenticated from {Address} with {Mechanism} on connection {ConnectionId}",
            udn, RemoteAddress, _sasl!.Name, Id);
        _sasl = null;
        await WriteSaslAsync("success", step.Data);
        RestartStream();
    }

    private async ValueTask SaslFailureAsync(SaslFailure failure, string reason, string? username, bool countsAsFailure)
    {
        _sasl = null;
        Log.LogWarning("Authentication failed for {Username} from {Address} on connection {ConnectionId}: {Condition} ({Reason})",
            username ?? "(unknown)", RemoteAddress, Id, failure.ToElementName(), reason);
        var failureXml = new XmlElement("failure", Namespaces.Sasl);
        failureXml.Add(new XmlElement(failure.ToElementName(), Namespaces.Sasl));
        await SendAsync(failureXml);
        if (!countsAsFailure) return;
        _services.Throttle.RecordFailure(RemoteAddress, username);
        if (++_authFailures >= _services.Options.MaxAuthAttemptsPerConnection)
            throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "too many failed authentication attempts");
    }

    private ValueTask WriteSaslAsync(string name, byte[]? data)
    {
        var element = new XmlElement(name, Namespaces.Sasl);
        // RFC 6120 §6.4.2: a challenge with no data is sent as "="; success without data is empty.
        if (data is { Length: > 0 }) element.AddText(Convert.ToBase64String(data));
        else if (name == "challenge") element.AddText("=");
        return SendAsync(element);
    }

    private static bool TryDecode(string text, out byte[] data)
    {
        text = text.Trim();
        if (text.Length == 0 || text == "=")
        {
            data = [];
            return true;
        }
        data = new byte[text.Length * 3 / 4 + 3];
        if (Convert.TryFromBase64String(text, data, out var written))
        {
            data = data[..written];
            return true;
        }
        return false;
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
        var fullJid = $"{Udn}@{Domain}/{resource}";
        _fullJid = fullJid;
        var previous = _services.Sessions.Register(fullJid, this);
        Log.LogInformation("{Udn} bound {FullJid} on connection {ConnectionId}", Udn, fullJid, Id);
        if (previous is not null)
        {
            Log.LogInformation("{FullJid}: connection {Old} replaced by {New}", fullJid, previous.Id, Id);
            _ = previous.CloseAsync(StreamErrorCondition.Conflict, "replaced by a new session with the same resource");
        }
        return fullJid;
    }

    /// <summary>An empty result for an iq, addressed back to its sender.</summary>
    public XmlElement ResultFor(XmlElement iq) => new XmlElement("iq", Namespaces.Client)
        .SetAttribute("type", "result")
        .SetAttribute("id", iq.Attribute("id"))
        .SetAttribute("from", iq.Attribute("to"))
        .SetAttribute("to", _fullJid);

    /// <summary>
    /// Tells the user grain where this session is and writes what waited for it. Pushes that arrive meanwhile are
    /// held until the backlog is written, so the terminal sees everything in order.
    /// </summary>
    public async Task AttachToUserAsync()
    {
        try
        {
            var handle = new SessionHandle(_services.Gateway.Id, SessionId, _services.Registration.Reference);
            var backlog = await _services.Grains.GetGrain<IUserGrain>(Udn!).AttachSessionAsync(handle);
            _userAttached = true;
            if (backlog.Length > 0) await WriteDeliveriesCoreAsync(backlog);
        }
        finally
        {
            _attached.TrySetResult();
        }
    }

    private async Task DetachFromUserAsync()
    {
        _attached.TrySetResult();
        if (!_userAttached) return;
        try
        {
            await _services.Grains.GetGrain<IUserGrain>(Udn!).DetachSessionAsync(SessionId);
        }
        catch (Exception e)
        {
            Log.LogWarning("{FullJid}: could not detach session {SessionId}: {Reason}", _fullJid, SessionId, e.Message);
        }
    }

    /// <summary>Writes deliveries pushed by a user grain (through this gateway's observer).</summary>
    public async Task WriteDeliveriesAsync(Delivery[] deliveries)
    {
        await _attached.Task;
        await WriteDeliveriesCoreAsync(deliveries);
    }

    private async Task WriteDeliveriesCoreAsync(Delivery[] deliveries)
    {
        List<long>? written = null;
        try
        {
            await _writeLock.WaitAsync();
            try
            {
                if (_outputClosed) return;
                foreach (var delivery in deliveries)
                {
                    DeliveryRenderer.Write(_output, delivery, Udn!, Domain);
                    if (delivery.Kind != DeliveryKind.Mms) (written ??= []).Add(delivery.Seq);
                }
                await _output.FlushAsync();
            }
            finally
            {
                _writeLock.Release();
            }
            // An MMS stays stored until the terminal's ACK/FAIL; the rest is done once written.
            if (written is not null) await _services.Grains.GetGrain<IUserGrain>(Udn!).ConfirmWrittenAsync(written.ToArray());
        }
        catch (Exception e)
        {
            Log.LogInformation("{FullJid}: writing {Count} deliveries failed, they stay stored: {Reason}", _fullJid, deliveries.Length, e.Message);
        }
    }

    /// <summary>FAIL straight back to the originator for a message refused on arrival (spec 7.5.2, project FAIL table).</summary>
    public async ValueTask SendFailAsync(string messageId, int failCode)
    {
        var notice = new Delivery(0, DeliveryKind.Notice, messageId, "FAIL", "chat", null,
            [new("MsgType", "3"), new("ReturnCode", failCode.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed) return;
            DeliveryRenderer.Write(_output, notice, Udn!, Domain);
            await _output.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>XEP-0199 ping from the server to an idle terminal (spec 7.3).</summary>
    public async ValueTask SendKeepalivePingAsync()
    {
        PingSentAt = _services.Time.GetTimestamp();
        var iq = new XmlElement("iq", Namespaces.Client)
            .SetAttribute("type", "get")
            .SetAttribute("id", $"mmss-ping-{Interlocked.Increment(ref _pingCounter)}")
            .SetAttribute("from", Domain)
            .SetAttribute("to", _fullJid);
        iq.AddElement("ping", Namespaces.Ping);
        await SendAsync(iq);
    }

    public async ValueTask SendAsync(XmlElement element)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed) return;
            XmlWriter.Write(_output, element, Namespaces.Client);
            await _output.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask WriteRawAsync(byte[] bytes, bool closeAfter = false)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed) return;
            await _output.WriteAsync(bytes);
            if (closeAfter) _outputClosed = true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask WriteHeaderAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed || _headerSent) return;
            WriteHeaderLocked();
            await _output.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteHeaderLocked()
    {
        _headerSent = true;
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        XmlWriter.WriteRaw(_output, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='"u8);
        XmlWriter.WriteString(_output, id);
        XmlWriter.WriteRaw(_output, "' from='"u8);
        XmlWriter.WriteEscaped(_output, Domain, escapeQuotes: true);
        XmlWriter.WriteRaw(_output, "' version='1.0' xml:lang='en'>"u8);
    }

    private async ValueTask WriteFeaturesAsync()
    {
        var features = new List<XmlElement>();
        if (Udn is null)
        {
            if (!IsSecure)
            {
                var starttls = new XmlElement("starttls", Namespaces.Tls);
                if (!_services.Options.AllowPlaintext) starttls.AddElement("required");
                features.Add(starttls);
            }
            if (IsSecure || _services.Options.AllowPlaintext)
            {
                var mechanisms = new XmlElement("mechanisms", Namespaces.Sasl);
                foreach (var name in SaslMechanisms.Offered) mechanisms.AddElement("mechanism", text: name);
                features.Add(mechanisms);
            }
        }
        else
        {
            features.Add(new XmlElement("bind", Namespaces.Bind));
            var session = new XmlElement("session", Namespaces.Session);
            session.AddElement("optional");
            features.Add(session);
        }
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed) return;
            XmlWriter.WriteRaw(_output, "<stream:features>"u8);
            foreach (var feature in features) XmlWriter.Write(_output, feature, Namespaces.Client);
            XmlWriter.WriteRaw(_output, "</stream:features>"u8);
            await _output.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Ends the stream with a stream error (RFC 6120 §4.9) and stops reading. Safe to call from any thread, once or many times.</summary>
    public async Task CloseAsync(StreamErrorCondition condition, string? text)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        try
        {
            await _writeLock.WaitAsync();
            try
            {
                if (!_outputClosed)
                {
                    _outputClosed = true;
                    if (!_headerSent) WriteHeaderLocked();
                    _output.Write(StreamErrorOpen);
                    var error = new XmlElement(condition.ToElementName(), Namespaces.StreamErrors);
                    XmlWriter.Write(_output, error, Namespaces.Client);
                    if (text is not null) XmlWriter.Write(_output, new XmlElement("text", Namespaces.StreamErrors).AddText(text), Namespaces.Client);
                    _output.Write(StreamErrorClose);
                    await _output.FlushAsync();
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
            Log.LogDebug("Could not send {Condition} to connection {ConnectionId}: {Reason}", condition.ToElementName(), Id, e.Message);
        }
        finally
        {
            _input.CancelPendingRead();
        }
    }

    private async Task CloseGracefullyAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        await WriteRawAsync("</stream:stream>"u8.ToArray(), closeAfter: true);
        Log.LogDebug("Connection {ConnectionId} ({Udn}) closed its stream", Id, Udn ?? "unauthenticated");
    }

    /// <summary>
    /// Closes our direction first (TLS close_notify, then FIN) and reads what the client still sends until it closes
    /// too or a short grace period passes (RFC 6120 §4.4). Closing a socket with unread input makes the kernel send
    /// a reset, which can destroy the stream error the client has not read yet.
    /// </summary>
    private async Task ShutdownTransportAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            _outputClosed = true;
            if (_tls is not null)
            {
                await _output.CompleteAsync();
                await _tls.ShutdownAsync();
            }
            await _context.Transport.Output.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or AuthenticationException)
        {
            Log.LogDebug("Closing connection {ConnectionId}: {Reason}", Id, e.Message);
        }
        finally
        {
            _writeLock.Release();
        }

        using var grace = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (true)
            {
                var result = await _context.Transport.Input.ReadAsync(grace.Token);
                _context.Transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
        }
        if (_tls is not null) await _tls.DisposeAsync();
    }

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);
}
