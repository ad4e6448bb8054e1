using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.WebSocket;

/// <summary>
/// Carries one XMPP stream between a WebSocket (RFC 7395) and a <see cref="C2s.C2sConnection"/>, which speaks the TCP
/// form on a pair of pipes. Sessions, SASL, grains, delivery, stream management and the stream errors of stanzas are
/// therefore those of TCP terminals; only the framing lives here: each client message must be exactly one element
/// within the stanza limit, &lt;open/&gt; and &lt;close/&gt; become the stream header and its end, and back.
/// </summary>
public sealed class XmppWebSocketBridge
{
    /// <summary>How long a client has to answer our close frame before the socket is cut (RFC 6455 §7.1.1).</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly System.Net.WebSockets.WebSocket _socket;
    private readonly Pipe _inbound = new();    // client → connection, in the TCP form
    private readonly Pipe _outbound = new();   // connection → client, in the TCP form
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly XmlStreamFramer _validator;
    private readonly int _maxMessageBytes;
    private readonly string _domain;
    private readonly string _connectionId;
    private readonly ILogger _log;
    private bool _streamOpen;
    private volatile bool _restartExpected;   // the server sent SASL <success/>: the client's next <open/> restarts the stream
    private bool _openSent;
    private bool _closeSent;
    private bool _failed;
    private bool _inboundCompleted;

    public XmppWebSocketBridge(System.Net.WebSockets.WebSocket socket, int maxMessageBytes, string domain, string connectionId, ILogger log)
    {
        _socket = socket;
        _maxMessageBytes = maxMessageBytes;
        _domain = domain;
        _connectionId = connectionId;
        _log = log;
        // Checks each message the way the connection's framer checks a TCP stream, from inside an (invisible) stream.
        _validator = new XmlStreamFramer(maxMessageBytes);
        _validator.TryReadToken(new ReadOnlySequence<byte>("<ws>"u8.ToArray()), out _, out _);
        Transport = new DuplexPipe(_inbound.Reader, _outbound.Writer);
    }

    /// <summary>The connection's side: it reads the client's stream and writes its own.</summary>
    public IDuplexPipe Transport { get; }

    /// <summary>Runs until the stream is over on both sides; <paramref name="runConnection"/> is the connection's own loop.</summary>
    public async Task RunAsync(Task runConnection, CancellationToken aborted)
    {
        var receiving = ReceiveLoopAsync(aborted);
        var sending = SendLoopAsync(aborted);
        await runConnection;
        await sending;
        try
        {
            await receiving.WaitAsync(CloseTimeout, aborted);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            _socket.Abort();
            await receiving;
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken aborted)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var message = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(chunk.AsMemory(), aborted);
                if (result.MessageType == WebSocketMessageType.Close) return;
                // After a framing error only the client's close frame matters.
                if (_failed) continue;
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    await FailAsync(StreamErrorCondition.BadFormat, "binary WebSocket messages are not XMPP: send text (RFC 7395 §3.2)",
                        WebSocketCloseStatus.InvalidMessageType);
                    continue;
                }
                // Checked before buffering more, as the TCP framer does: a client cannot make us hold more than the limit.
                if (message.WrittenCount + result.Count > _maxMessageBytes)
                {
                    await FailAsync(StreamErrorCondition.PolicyViolation, $"a WebSocket message exceeds the limit of {_maxMessageBytes} bytes",
                        WebSocketCloseStatus.MessageTooBig);
                    continue;
                }
                message.Write(chunk.AsSpan(0, result.Count));
                if (!result.EndOfMessage) continue;
                try
                {
                    await ForwardAsync(message.WrittenMemory);
                }
                catch (XmppStreamException e)
                {
                    await FailAsync(e.Condition, e.Text ?? e.Message, WebSocketCloseStatus.NormalClosure);
                }
                message.Clear();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _log.LogDebug("WebSocket connection {ConnectionId} dropped: {Reason}", _connectionId, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            await CompleteInboundAsync();
        }
    }

    /// <summary>One client message, already whole: framing becomes the TCP form, anything else goes on as it is.</summary>
    private async ValueTask ForwardAsync(ReadOnlyMemory<byte> message)
    {
        if (!HoldsOneElement(message)) return;
        var writer = _inbound.Writer;
        if (Rfc7395Framing.MayBeFraming(message.Span))
        {
            var element = XmlParser.ParseStanza(message.Span, Rfc7395Framing.ClientScope);
            if (element.Name is "open" or "close" && element.Namespace != Rfc7395Framing.Namespace)
                throw new XmppStreamException(StreamErrorCondition.InvalidNamespace, $"<{element.Name}/> belongs to {Rfc7395Framing.Namespace} (RFC 7395 §3.3)");
            if (element.Name == "open")
            {
                if (_streamOpen && !_restartExpected)
                    throw XmppStreamException.NotWellFormed("<open/> while the stream is open: it restarts the stream only after SASL success (RFC 7395 §3.5)");
                _streamOpen = true;
                _restartExpected = false;
                Rfc7395Framing.WriteStreamHeader(writer, element);
                await writer.FlushAsync();
                return;
            }
            if (element.Name == "close")
            {
                writer.Write(Rfc7395Framing.StreamEnd);
                await writer.FlushAsync();
                return;
            }
        }
        if (!_streamOpen)
            throw new XmppStreamException(StreamErrorCondition.BadFormat, $"the first message must be <open xmlns='{Rfc7395Framing.Namespace}'/> (RFC 7395 §3.4)");
        writer.Write(message.Span);
        await writer.FlushAsync();
    }

    /// <summary>RFC 7395 §3.3.3: every message is one complete element; false for a message of whitespace only.</summary>
    private bool HoldsOneElement(ReadOnlyMemory<byte> message)
    {
        var rest = new ReadOnlySequence<byte>(message);
        var elements = 0;
        while (!rest.IsEmpty)
        {
            if (!_validator.TryReadToken(rest, out var kind, out var end))
                throw XmppStreamException.NotWellFormed("a WebSocket message must hold one complete XML element (RFC 7395 §3.3.3)");
            if (kind == XmlTokenKind.StreamEnd || (kind == XmlTokenKind.Stanza && ++elements > 1))
                throw XmppStreamException.NotWellFormed("a WebSocket message must hold exactly one XML element (RFC 7395 §3.3.3)");
            rest = rest.Slice(end);
        }
        return elements == 1;
    }

    private async Task SendLoopAsync(CancellationToken aborted)
    {
        var reader = _outbound.Reader;
        // The connection writes well-formed XML of its own; the limit is the client's business, not ours.
        var framer = new XmlStreamFramer(int.MaxValue);
        var scope = Rfc7395Framing.ClientScope;
        var message = new ArrayBufferWriter<byte>(1024);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(aborted);
                var buffer = result.Buffer;
                try
                {
                    while (framer.TryReadToken(buffer, out var kind, out var end))
                    {
                        var token = buffer.Slice(0, end);
                        buffer = buffer.Slice(end);
                        if (kind == XmlTokenKind.Ignorable) continue;
                        message.ResetWrittenCount();
                        switch (kind)
                        {
                            case XmlTokenKind.StreamHeader:
                                Rfc7395Framing.WriteOpen(message, XmlParser.ParseStreamHeader(token, out scope));
                                break;
                            case XmlTokenKind.StreamEnd:
                                message.Write(Rfc7395Framing.Close);
                                break;
                            default:
                                var element = XmlParser.ParseStanza(token, scope);
                                if (element is { Name: "success", Namespace: Namespaces.Sasl })
                                {
                                    // RFC 6120 §6.4.6: both sides restart; the server's next header opens a new stream.
                                    framer.Reset();
                                    _restartExpected = true;
                                }
                                Rfc7395Framing.WriteElement(message, element);
                                break;
                        }
                        await SendAsync(message.WrittenMemory, kind, aborted);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or XmppStreamException)
        {
            _log.LogDebug("WebSocket connection {ConnectionId}: sending stopped: {Reason}", _connectionId, e.Message);
        }
        finally
        {
            await reader.CompleteAsync();
            await CloseSocketAsync(WebSocketCloseStatus.NormalClosure, "stream closed", aborted);
        }
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> message, XmlTokenKind kind, CancellationToken aborted)
    {
        await _sendLock.WaitAsync(aborted);
        try
        {
            // Once the WebSocket layer has ended the stream itself, what the connection still writes goes nowhere.
            if (_closeSent) return;
            if (kind == XmlTokenKind.StreamHeader) _openSent = true;
            if (kind == XmlTokenKind.StreamEnd) _closeSent = true;
            await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, aborted);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// A framing error: the stream error the connection would send (after an &lt;open/&gt; if none went out yet),
    /// &lt;close/&gt;, a close frame saying why; then the connection sees its input end, as on a dropped TCP connection.
    /// </summary>
    private async Task FailAsync(StreamErrorCondition condition, string text, WebSocketCloseStatus status)
    {
        _failed = true;
        _log.LogInformation("WebSocket connection {ConnectionId} ended with {Condition}: {Reason}", _connectionId, condition.ToElementName(), text);
        await _sendLock.WaitAsync();
        try
        {
            if (!_closeSent && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                _closeSent = true;
                var buffer = new ArrayBufferWriter<byte>(256);
                if (!_openSent)
                {
                    Rfc7395Framing.WriteBareOpen(buffer, _domain);
                    await _socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, true, CancellationToken.None);
                    buffer.ResetWrittenCount();
                }
                Rfc7395Framing.WriteStreamError(buffer, condition, text);
                await _socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, true, CancellationToken.None);
                await _socket.SendAsync(Rfc7395Framing.Close, WebSocketMessageType.Text, true, CancellationToken.None);
                await _socket.CloseOutputAsync(status, CloseReason(text), CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            _log.LogDebug("Could not send {Condition} to WebSocket connection {ConnectionId}: {Reason}", condition.ToElementName(), _connectionId, e.Message);
        }
        finally
        {
            _sendLock.Release();
        }
        await CompleteInboundAsync();
    }

    private async Task CloseSocketAsync(WebSocketCloseStatus status, string reason, CancellationToken aborted)
    {
        await _sendLock.WaitAsync(CancellationToken.None);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                if (!_closeSent) await _socket.SendAsync(Rfc7395Framing.Close, WebSocketMessageType.Text, true, aborted);
                _closeSent = true;
                await _socket.CloseOutputAsync(status, reason, aborted);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            _log.LogDebug("Closing WebSocket connection {ConnectionId}: {Reason}", _connectionId, e.Message);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask CompleteInboundAsync()
    {
        if (_inboundCompleted) return;
        _inboundCompleted = true;
        await _inbound.Writer.CompleteAsync();
    }

    /// <summary>RFC 6455 §5.5: a close frame's reason fits in 123 bytes of UTF-8.</summary>
    private static string CloseReason(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) <= 123) return text;
        var cut = text[..Math.Min(text.Length, 120)];
        while (Encoding.UTF8.GetByteCount(cut) > 120) cut = cut[..^1];
        return cut + "...";
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
