using System.Buffers;
using System.Globalization;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.S2s;

/// <summary>
/// One authenticated outgoing stream to a peer domain: secured (STARTTLS), authenticated by dialback (XEP-0220 §2.1),
/// with stream management enabled (XEP-0198) so that every run of stanzas is followed by &lt;r/&gt; and counts as
/// delivered only once the peer's &lt;a h/&gt; covers it. The stream is one-way (RFC 6120 §4.1): the peer sends us
/// only acknowledgements here, and its own stanzas over a stream it opens to our listener.
/// </summary>
internal sealed class S2sOutboundLink : IAsyncDisposable
{
    private static readonly byte[] AckRequest = "<r xmlns='urn:xmpp:sm:3'/>"u8.ToArray();
    private static readonly byte[] NothingHandled = "<a xmlns='urn:xmpp:sm:3' h='0'/>"u8.ToArray();

    private readonly S2sClientStream _stream;
    private readonly S2sServices _services;
    private readonly Lock _lock = new();
    // Runs of stanzas waiting for the peer's acknowledgement, in the order they were written: Target is the count of
    // stanzas sent once the run was written, compared with h modulo 2^32 (XEP-0198 §4).
    private readonly Queue<(uint Target, TaskCompletionSource Done)> _waiting = new();
    private uint _sent;
    private uint _acknowledged;
    private S2sLinkException? _failure;
    private long _lastSentAt;
    private Task _readLoop = Task.CompletedTask;
    private Task _keepalive = Task.CompletedTask;
    private PeriodicTimer? _keepaliveTimer;

    private S2sOutboundLink(S2sClientStream stream, S2sServices services)
    {
        _stream = stream;
        _services = services;
    }

    public Peer Peer => _stream.Peer;

    public string LocalDomain => _stream.LocalDomain;

    public bool IsHealthy => Volatile.Read(ref _failure) is null;

    private ILogger Log => _services.Logger;

    /// <summary>Connects, secures, authenticates and enables stream management; every failure is an <see cref="S2sLinkException"/>.</summary>
    public static async Task<S2sOutboundLink> OpenAsync(S2sServices services, string localDomain, Peer peer, CancellationToken cancellationToken)
    {
        var stream = await S2sClientStream.OpenAsync(services, localDomain, peer, cancellationToken);
        try
        {
            await stream.RunStepAsync(token => AuthenticateAsync(stream, services, token), cancellationToken);
            await stream.RunStepAsync(token => EnableStreamManagementAsync(stream, token), cancellationToken);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
        var link = new S2sOutboundLink(stream, services);
        services.CountLinkOpened();
        link._lastSentAt = services.Time.GetTimestamp();
        link._readLoop = link.ReadLoopAsync();
        if (services.Options.KeepaliveSeconds > 0)
        {
            link._keepaliveTimer = new PeriodicTimer(TimeSpan.FromSeconds(services.Options.KeepaliveSeconds), services.Time);
            link._keepalive = link.KeepaliveAsync(link._keepaliveTimer);
        }
        services.Logger.LogInformation("S2S link {Local} -> {Peer} open to {Host}:{Port} (stream {StreamId})",
            localDomain, peer.Domain, peer.Host, peer.Port, stream.StreamId);
        return link;
    }

    /// <summary>XEP-0220 §2.1.1: we send our key; the peer asks our authoritative listener whether it is genuine, then answers.</summary>
    private static async Task AuthenticateAsync(S2sClientStream stream, S2sServices services, CancellationToken cancellationToken)
    {
        var key = services.Keys.Generate(stream.Peer.Domain, stream.LocalDomain, stream.StreamId);
        await stream.Core.WriteAsync((stream.LocalDomain, stream.Peer.Domain, key),
            static (output, s) => S2sXml.WriteDialback(output, "result", s.LocalDomain, s.Domain, id: null, type: null, s.key));
        while (true)
        {
            var answer = await stream.ReadElementAsync(cancellationToken);
            if (answer.Name != "result" || answer.Namespace != S2sNamespaces.Dialback) continue;
            switch (answer.Attribute("type"))
            {
                case "valid":
                    return;
                case "invalid":
                    throw new S2sLinkException(stream.Peer.Domain, "dialback refused: the peer's verification found our key invalid");
                default:
                    var condition = answer.Element("error", S2sNamespaces.Dialback)?.FirstElement()?.Name
                                    ?? answer.Element("error", Namespaces.Server)?.FirstElement()?.Name ?? "no reason given";
                    throw new S2sLinkException(stream.Peer.Domain, $"dialback failed: {condition}");
            }
        }
    }

    private static async Task EnableStreamManagementAsync(S2sClientStream stream, CancellationToken cancellationToken)
    {
        // Without XEP-0198 there is no way to know the peer handled a stanza, and the relay's guarantee rests on that.
        await stream.Core.SendAsync(new XmlElement("enable", Namespaces.StreamManagement));
        var answer = await stream.ReadElementAsync(cancellationToken);
        if (answer.Name != "enabled" || answer.Namespace != Namespaces.StreamManagement)
            throw new S2sLinkException(stream.Peer.Domain, $"stream management refused: {answer}");
    }

    /// <summary>
    /// Writes the stanzas and &lt;r/&gt;, then waits until the peer's &lt;a h/&gt; covers them or the ack timeout passes.
    /// No stanzas: a bare &lt;r/&gt;, answered once the peer has handled everything sent before (a keepalive).
    /// </summary>
    public async Task SendAsync(IReadOnlyList<XmlElement> stanzas, CancellationToken cancellationToken)
    {
        _lastSentAt = _services.Time.GetTimestamp();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool written;
        try
        {
            written = await _stream.Core.WriteAsync((this, stanzas, done), static (output, s) => s.Item1.WriteLocked(output, s.stanzas, s.done));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            await FailAsync(new S2sLinkException(Peer.Domain, $"writing failed: {e.Message}", e), null);
            throw Volatile.Read(ref _failure)!;
        }
        if (!written) throw Volatile.Read(ref _failure) ?? new S2sLinkException(Peer.Domain, "the link is closed");
        try
        {
            await done.Task.WaitAsync(_services.AckTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            var failure = new S2sLinkException(Peer.Domain, $"no acknowledgement within {_services.Options.AckTimeoutSeconds}s");
            await FailAsync(failure, StreamErrorCondition.ConnectionTimeout);
            throw failure;
        }
    }

    /// <summary>Runs under the stream's write lock, so the count given to each run is the order the peer counts in.</summary>
    private void WriteLocked(IBufferWriter<byte> output, IReadOnlyList<XmlElement> stanzas, TaskCompletionSource done)
    {
        lock (_lock)
        {
            if (_failure is not null)
            {
                done.TrySetException(_failure);
                return;
            }
            foreach (var stanza in stanzas) S2sXml.WriteStanza(output, stanza);
            output.Write(AckRequest);
            _sent = unchecked(_sent + (uint)stanzas.Count);
            _services.CountStanzasSent(stanzas.Count);
            _waiting.Enqueue((_sent, done));
        }
    }

    /// <summary>RFC 6120 §4.6: checks an idle link is alive, so that a dead one is replaced before a send needs it.</summary>
    private async Task KeepaliveAsync(PeriodicTimer timer)
    {
        var interval = timer.Period;
        try
        {
            while (IsHealthy && await timer.WaitForNextTickAsync())
            {
                if (!IsHealthy) return;
                if (_services.Time.GetElapsedTime(_lastSentAt) < interval) continue;
                await SendAsync([], CancellationToken.None);
            }
        }
        catch (S2sLinkException)
        {
            // The link has failed and closed itself; the next send opens a new one.
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var element = await _stream.ReadElementAsync(CancellationToken.None);
                if (element.Namespace == Namespaces.StreamManagement && element.Name == "a")
                {
                    Acknowledge(element.Attribute("h"));
                    continue;
                }
                if (element.Namespace == Namespaces.StreamManagement && element.Name == "r")
                {
                    // Nothing is received on an outgoing stream, so nothing was handled.
                    await _stream.Core.WriteRawAsync(NothingHandled);
                    continue;
                }
                throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType,
                    $"<{element.Name} xmlns='{element.Namespace}'/> on an outgoing server-to-server stream; send over your own stream");
            }
        }
        catch (XmppStreamException e)
        {
            await FailAsync(new S2sLinkException(Peer.Domain, e.Message, e), e.Condition);
        }
        catch (S2sLinkException e)
        {
            await FailAsync(e, null);
        }
        catch (Exception e)
        {
            await FailAsync(new S2sLinkException(Peer.Domain, e.Message, e), null);
        }
        finally
        {
            await _stream.DisposeAsync();
        }
    }

    private void Acknowledge(string? text)
    {
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var h))
            throw new XmppStreamException(StreamErrorCondition.BadFormat, "<a/> without a valid 'h'");
        List<TaskCompletionSource>? completed = null;
        lock (_lock)
        {
            // XEP-0198 §4: an h beyond what was sent is a protocol error (handled-count-too-high).
            if (unchecked(h - _acknowledged) > unchecked(_sent - _acknowledged))
                throw new XmppStreamException(StreamErrorCondition.UndefinedCondition, $"h={h} acknowledges more than the {_sent} stanzas sent");
            _acknowledged = h;
            _services.CountAcknowledgementReceived();
            while (_waiting.Count > 0 && unchecked((int)(h - _waiting.Peek().Target)) >= 0) (completed ??= []).Add(_waiting.Dequeue().Done);
        }
        if (completed is null) return;
        foreach (var done in completed) done.TrySetResult();
    }

    /// <summary>Marks the link failed, fails every waiting send, and closes the stream (the read loop then releases the socket).</summary>
    private async Task FailAsync(S2sLinkException failure, StreamErrorCondition? condition, bool deliberate = false)
    {
        (uint Target, TaskCompletionSource Done)[] waiting;
        lock (_lock)
        {
            if (_failure is not null) return;
            Volatile.Write(ref _failure, failure);
            waiting = _waiting.ToArray();
            _waiting.Clear();
        }
        foreach (var (_, done) in waiting) done.TrySetException(failure);
        if (!deliberate) _services.CountLinkFailure();
        // Ends the keepalive loop at once (its wait returns false) rather than at its next tick.
        _keepaliveTimer?.Dispose();
        if (condition is { } c)
        {
            Log.LogWarning("S2S link {Local} -> {Peer} failed ({Condition}): {Reason}", LocalDomain, Peer.Domain, c.ToElementName(), failure.Message);
            await _stream.Core.CloseAsync(c, null);
        }
        else
        {
            Log.Log(deliberate ? LogLevel.Information : LogLevel.Warning, "S2S link {Local} -> {Peer} closed: {Reason}",
                LocalDomain, Peer.Domain, failure.Message);
            await _stream.Core.CloseGracefullyAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await FailAsync(new S2sLinkException(Peer.Domain, "the link was closed by this server"), null, deliberate: true);
        await _readLoop;
        await _keepalive;
    }
}
