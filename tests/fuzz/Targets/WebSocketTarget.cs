using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Mmss.Gateway.WebSocket;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// XMPP over WebSocket (RFC 7395): the gateway's own <see cref="XmppWebSocketBridge"/>, between a scripted WebSocket
/// that delivers the input's messages and a stand-in for the C2sConnection that reads the TCP form the bridge makes of
/// them (it answers an &lt;open/&gt; with a header and features, SASL with &lt;success/&gt; so that the restart is
/// reachable, and echoes every other stanza, as routing back to the sender does).
/// Input: byte 0 chooses the size of the WebSocket frames a message arrives in (1–128 bytes); the rest is the
/// messages, separated by a 0 byte (never in XML); a message starting with byte 1 is a binary one.
/// Bad input may only end the stream with a stream error (the bridge catches <see cref="XmppStreamException"/>).
/// Invariants: the bridge finishes (no hang, no exception); what reaches the connection is a stream header (from
/// &lt;open/&gt;, which must parse), then stanzas that are each exactly one client message, never over the limit;
/// a message over the limit ends the stream with policy-violation, a binary one with bad-format; every message the
/// client gets is one standalone element it can parse, nothing follows &lt;close/&gt;, and the stream always ends
/// with &lt;close/&gt; and a close frame.
/// </summary>
public sealed class WebSocketTarget : FuzzTarget
{
    /// <summary>Small, so that the fuzzer reaches it; the bridge's check does not depend on the value.</summary>
    private const int MaxMessageBytes = 512;

    private const string FramingNamespace = "urn:ietf:params:xml:ns:xmpp-framing";

    private const byte Separator = 0;
    private const byte BinaryMark = 1;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public override string Name => "websocket";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Gateway.dll", "Mmss.Protocol.dll"];

    public override string Run(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var frameBytes = 1 + input[0] % 128;
        var messages = new List<Message>();
        var rest = input.AsSpan(1);
        while (true)
        {
            var cut = rest.IndexOf(Separator);
            var message = cut < 0 ? rest : rest[..cut];
            messages.Add(message is [BinaryMark, ..] ? new Message(true, message[1..].ToArray()) : new Message(false, message.ToArray()));
            if (cut < 0) break;
            rest = rest[(cut + 1)..];
        }
        var client = new ScriptedClient(messages, frameBytes);
        var run = client.RunAsync();
        if (!((IAsyncResult)run).AsyncWaitHandle.WaitOne(Patience + Patience))
            throw client.Broken ?? new InvariantException("the bridge did not finish within 20 s");
        return run.GetAwaiter().GetResult();
    }

    private sealed record Message(bool Binary, byte[] Bytes);

    /// <summary>The client end of one WebSocket: delivers the script to the bridge, checks what it sends back; runs the session.</summary>
    private sealed class ScriptedClient : System.Net.WebSockets.WebSocket
    {
        private static readonly NamespaceScope Standalone = new(string.Empty);

        private readonly List<Message> _messages;
        private readonly int _frameBytes;
        private readonly SemaphoreSlim _progress = new(0);
        private readonly TaskCompletionSource _scriptDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _received = [];   // what the client got, as element names
        private Connection _connection = null!;
        private int _next;           // the message being delivered
        private int _offset;         // within it
        private Message? _delivered; // the last message delivered whole, and whether the stream was live then
        private bool _deliveredLive;
        private bool _closeReceived; // <close/> got by the client
        private bool _closeOutput;   // the bridge's close frame
        private bool _closeDelivered;
        private bool _aborted;
        private WebSocketCloseStatus? _closeStatus;
        private string? _closeStatusDescription;

        public ScriptedClient(List<Message> messages, int frameBytes)
        {
            _messages = messages;
            _frameBytes = frameBytes;
        }

        public async Task<string> RunAsync()
        {
            var bridge = new XmppWebSocketBridge(this, MaxMessageBytes, "example.com", "fuzz", NullLogger.Instance);
            _connection = new Connection(bridge.Transport, this);
            try
            {
                await bridge.RunAsync(_connection.RunAsync(_scriptDone.Task), CancellationToken.None);
            }
            catch (Exception) when (Broken is not null)
            {
                // Thrown where the bridge called us: what the bridge then made of the exception does not matter.
            }
            if (Broken is not null) throw Broken;
            if (!_closeOutput) throw new InvariantException("the bridge ended without a close frame");
            if (!_closeReceived) throw new InvariantException($"the stream ended without <close/>: {string.Join(" ", _received)}");
            if (_aborted) throw new InvariantException("the socket was aborted: the receive loop did not end after the close");
            return $"{_delivered?.Bytes.Length} last message; sent: {string.Join(" ", _received)}";
        }

        /// <summary>The first invariant found broken: thrown where it was found, and again at the end whatever the bridge did with it.</summary>
        public InvariantException? Broken { get; private set; }

        /// <summary>Records a broken invariant and ends the script, so that the session ends and reports it.</summary>
        public InvariantException Break(string message)
        {
            Broken ??= new InvariantException(message);
            _scriptDone.TrySetResult();
            return Broken;
        }

        /// <summary>The last message delivered whole: the one whatever the connection reads now came from.</summary>
        public Message? Delivered => _delivered;

        private bool Live => !_closeReceived && !_closeOutput && !_connection.Ended;

        public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            if (_offset == 0)
            {
                // The previous message is through the bridge: see what it made of it before the next one.
                await _connection.DrainAsync();
                CheckOutcome();
                // Wait for the answers, as a client does (the <open/> after <success/> depends on it).
                await WaitForAsync(() => _received.Count >= _connection.Replies || _closeOutput, "the connection's answers");
                if (_connection.Ended) await WaitForAsync(() => _closeOutput, "the close frame after the connection ended");
            }
            if (_closeOutput || _next == _messages.Count)
            {
                _closeDelivered = true;
                _scriptDone.TrySetResult();
                return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
            }
            var message = _messages[_next];
            if (_offset == 0) _deliveredLive = Live;
            var count = Math.Min(Math.Min(_frameBytes, buffer.Length), message.Bytes.Length - _offset);
            message.Bytes.AsSpan(_offset, count).CopyTo(buffer.Span);
            _offset += count;
            var end = _offset == message.Bytes.Length;
            if (end)
            {
                _delivered = message;
                _next++;
                _offset = 0;
            }
            return new ValueWebSocketReceiveResult(count, message.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, end);
        }

        /// <summary>A message the bridge must refuse ends a live stream with the stream error RFC 7395 names.</summary>
        private void CheckOutcome()
        {
            if (_delivered is null || !_deliveredLive) return;
            var expected = _delivered.Binary ? "bad-format" : _delivered.Bytes.Length > MaxMessageBytes ? "policy-violation" : null;
            if (expected is null) return;
            if (!_received.Contains("error:" + expected))
                throw Break($"a {(_delivered.Binary ? "binary" : $"{_delivered.Bytes.Length}-byte")} message did not end the stream with {expected}: {string.Join(" ", _received)}");
        }

        private async Task WaitForAsync(Func<bool> condition, string what)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (!condition())
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !await _progress.WaitAsync(left) && !condition())
                    throw Break($"waited {Patience.TotalSeconds} s for {what}: {string.Join(" ", _received)}");
            }
        }

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            if (messageType != WebSocketMessageType.Text || !endOfMessage)
                throw Break($"the server sent a {messageType} frame (end of message: {endOfMessage}): RFC 7395 messages are whole text messages");
            if (_closeReceived || _closeOutput)
                throw Break($"the server sent after its <close/> or close frame: {Encoding.UTF8.GetString(buffer.Span)}");
            XmlElement element;
            try
            {
                element = XmlParser.ParseStanza(buffer.Span, Standalone);
            }
            catch (XmppStreamException e)
            {
                throw Break($"the client cannot parse a message of the server ({e.Message}): {Encoding.UTF8.GetString(buffer.Span)}");
            }
            var name = element switch
            {
                { Name: "close", Namespace: FramingNamespace } => "close",
                { Name: "error", Namespace: Namespaces.Streams } => "error:" + (element.Elements.FirstOrDefault(e => e.Namespace == Namespaces.StreamErrors)?.Name ?? "?"),
                _ => element.Name,
            };
            _received.Add(name);
            if (name == "close") _closeReceived = true;
            _progress.Release();
            return ValueTask.CompletedTask;
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

        public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
        {
            var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken);
            return new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
        }

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            if (_closeOutput) throw Break("two close frames");
            if (statusDescription is not null && Encoding.UTF8.GetByteCount(statusDescription) > 123)
                throw Break($"a close reason over 123 bytes (RFC 6455 §5.5): {statusDescription}");
            _closeOutput = true;
            _closeStatus = closeStatus;
            _closeStatusDescription = statusDescription;
            _progress.Release();
            return Task.CompletedTask;
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override void Abort() => _aborted = true;

        public override void Dispose() { }

        public override WebSocketCloseStatus? CloseStatus => _closeStatus;

        public override string? CloseStatusDescription => _closeStatusDescription;

        public override WebSocketState State => (_closeOutput, _closeDelivered) switch
        {
            (false, false) => WebSocketState.Open,
            (true, false) => WebSocketState.CloseSent,
            (false, true) => WebSocketState.CloseReceived,
            (true, true) => WebSocketState.Closed,
        };

        public override string? SubProtocol => "xmpp";
    }

    /// <summary>
    /// The C2sConnection's side of the bridge's pipes: reads the TCP form as XmppStreamCore does (framer, header, stanzas
    /// in its scope) and answers. Driven by the scripted socket between messages, so that each step is deterministic.
    /// </summary>
    private sealed class Connection(IDuplexPipe transport, ScriptedClient client)
    {
        private static readonly byte[] ServerHeader = Encoding.UTF8.GetBytes(
            "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='fuzz' from='example.com' version='1.0' xml:lang='en'>");
        private static readonly byte[] Features = Encoding.UTF8.GetBytes(
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>");
        private static readonly byte[] Success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"u8.ToArray();
        private static readonly byte[] End = "</stream:stream>"u8.ToArray();

        private readonly XmlStreamFramer _framer = new(int.MaxValue);   // the limit is the bridge's to keep: checked by hand
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private NamespaceScope? _scope;
        private bool _everOpened;

        public bool Ended { get; private set; }

        /// <summary>Messages the bridge should send the client for what this side wrote.</summary>
        public int Replies { get; private set; }

        public async Task RunAsync(Task scriptDone)
        {
            await Task.WhenAny(_ended.Task, scriptDone);
            // The client's messages are over: what the bridge still passes on, then the end of its input.
            while (!Ended)
            {
                var result = await transport.Input.ReadAsync();
                await ProcessAsync(result);
                if (result.IsCompleted) await EndAsync(End, 1);
            }
        }

        /// <summary>What the bridge forwarded from the last message, without waiting.</summary>
        public async ValueTask DrainAsync()
        {
            if (!Ended && transport.Input.TryRead(out var result)) await ProcessAsync(result);
        }

        private async ValueTask ProcessAsync(ReadResult result)
        {
            var buffer = result.Buffer;
            var output = transport.Output;
            try
            {
                while (!Ended && _framer.TryReadToken(buffer, out var kind, out var end))
                {
                    var token = buffer.Slice(0, end);
                    buffer = buffer.Slice(end);
                    switch (kind)
                    {
                        case XmlTokenKind.Ignorable:
                            continue;
                        case XmlTokenKind.StreamHeader:
                            XmlElement header;
                            try
                            {
                                header = XmlParser.ParseStreamHeader(token, out _scope);
                            }
                            catch (XmppStreamException e) when (_everOpened)
                            {
                                // A client's stanza where the restart's <open/> was due, and bytes that do not parse (invalid
                                // UTF-8, say): C2sConnection ends the stream with the parser's condition, and so does this.
                                _scope = null;
                                await FailAsync(e.Condition);
                                break;
                            }
                            catch (XmppStreamException e)
                            {
                                throw client.Break($"the header made of <open/> does not parse ({e.Message}): {Encoding.UTF8.GetString(token)}");
                            }
                            if (header.Namespace != Namespaces.Streams || header.Name != "stream")
                            {
                                // A stanza where the restart's <open/> was due: its start tag is what the connection reads as
                                // the header, and refuses as C2sConnection does, so the stream ends there.
                                if (!_everOpened) throw client.Break($"the first header is not <stream:stream>: {Encoding.UTF8.GetString(token)}");
                                _scope = null;
                                await FailAsync(header.Namespace != Namespaces.Streams ? StreamErrorCondition.InvalidNamespace : StreamErrorCondition.BadFormat);
                                break;
                            }
                            _everOpened = true;
                            output.Write(ServerHeader);
                            output.Write(Features);
                            Replies += 2;
                            break;
                        case XmlTokenKind.StreamEnd:
                            await EndAsync(End, 1);
                            break;
                        default:
                            CheckIsOneMessage(token);
                            if (_scope is null)
                            {
                                // After <success/> the connection wants a new header: a stanza instead is the client's error.
                                if (!_everOpened) throw client.Break($"a stanza reached the connection before a stream header: {Encoding.UTF8.GetString(token)}");
                                await FailAsync(StreamErrorCondition.NotWellFormed);
                                break;
                            }
                            XmlElement stanza;
                            try
                            {
                                stanza = XmlParser.ParseStanza(token, _scope);
                            }
                            catch (XmppStreamException e)
                            {
                                await FailAsync(e.Condition);
                                break;
                            }
                            if (stanza.Namespace == Namespaces.Sasl)
                            {
                                // RFC 6120 §6.4.6: the stream restarts, the client's next <open/> is a new header.
                                output.Write(Success);
                                _framer.Reset();
                                _scope = null;
                            }
                            else
                            {
                                XmlWriter.Write(output, stanza, Namespaces.Client);
                            }
                            Replies++;
                            break;
                    }
                }
            }
            catch (XmppStreamException e)
            {
                await FailAsync(e.Condition);
            }
            finally
            {
                transport.Input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (!Ended) await output.FlushAsync();
        }

        /// <summary>Stanzas pass as they are: each one the connection reads is exactly one client message, within the limit.</summary>
        private void CheckIsOneMessage(ReadOnlySequence<byte> token)
        {
            if (token.Length > MaxMessageBytes)
                throw client.Break($"a {token.Length}-byte stanza passed the bridge's limit of {MaxMessageBytes}");
            var message = (client.Delivered?.Bytes ?? []).AsSpan().Trim(" \t\r\n"u8);
            if (!message.SequenceEqual(token.ToArray()))
                throw client.Break($"the connection read a stanza that is not the client's message:\n  message: {Encoding.UTF8.GetString(message)}\n  stanza:  {Encoding.UTF8.GetString(token)}");
        }

        private ValueTask FailAsync(StreamErrorCondition condition) =>
            EndAsync(Encoding.UTF8.GetBytes($"<stream:error><{condition.ToElementName()} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"), 2);

        private async ValueTask EndAsync(byte[] last, int replies)
        {
            if (Ended) return;
            Ended = true;
            transport.Output.Write(last);
            Replies += replies;
            await transport.Output.CompleteAsync();
            _ended.TrySetResult();
        }
    }

    public override IEnumerable<string> Dictionary() =>
    [
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='20.20.20.99' version='1.0'/>", "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
        "urn:ietf:params:xml:ns:xmpp-framing", "<open", "<close", "/>", "<", ">", "</", "xmlns=", "xmlns:stream=", "xml:lang=", " to='", " version='1.0'",
        "<stream:stream>", "</stream:stream>", "http://etherx.jabber.org/streams", "jabber:client",
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>", "<message>", "</message>", "<iq ", "<presence/>",
        "&amp;", "&quot;", "&apos;", "<![CDATA[", "]]>", "<!--", "<?xml version='1.0'?>", "\x00", "\x00\x01", " \n",
    ];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        const string open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='20.20.20.99' version='1.0'/>";
        const string close = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
        const string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>ADExMDIAc2VjcmV0</auth>";
        static byte[] Messages(byte frame, params string[] messages) =>
            [frame, .. Encoding.UTF8.GetBytes(string.Join('\0', messages))];
        // SASL stanzas restart the stream (the stand-in answers <success/>): only the login seeds send one.
        var stanzas = SpecStanzas.All.Select(s => s.Stanza)
            .Where(s => Encoding.UTF8.GetByteCount(s) <= MaxMessageBytes && !s.Contains(Namespaces.Sasl, StringComparison.Ordinal)).ToArray();
        // RFC 7395 §3.4–3.6: open, authenticate, restart, bind, a stanza, close; in frames of 127, 16 and 1 bytes.
        yield return ("login", Messages(126, open, auth, open, SpecStanzas.All.First(s => s.Name == "bind").Stanza, stanzas[0], close));
        yield return ("login-small-frames", Messages(15, open, auth, "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='20.20.20.99' version='1.0' xml:lang='zh'/>", close));
        yield return ("spec-stanzas", Messages(127, [open, .. stanzas, close]));
        yield return ("whitespace", Messages(0, open, " \n", "  <presence/>\n", close));
        // What the bridge refuses: the stream error it sends is checked.
        yield return ("too-big", Messages(63, open, $"<message><body>{new string('x', MaxMessageBytes)}</body></message>"));
        yield return ("binary", [7, .. Encoding.UTF8.GetBytes(open), 0, 1, .. Encoding.UTF8.GetBytes("<presence/>")]);
        yield return ("two-elements", Messages(127, open, "<presence/><presence/>"));
        yield return ("no-open", Messages(127, "<presence/>"));
        yield return ("open-twice", Messages(127, open, open));
        yield return ("stream-end", Messages(127, open, "</stream:stream>"));
        yield return ("open-wrong-namespace", Messages(127, "<open xmlns='jabber:client'/>"));
        yield return ("stanza-after-restart", Messages(127, open, auth, "<presence/>"));
        // Its start tag stands where the restart's header is due (a finding of the fuzzer's).
        yield return ("stanza-with-children-after-restart", Messages(127, open, auth,
            "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"));
    }
}
