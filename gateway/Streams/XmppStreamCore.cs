using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Mmss.Gateway.C2s;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Streams;

/// <summary>
/// What every XMPP stream has whatever its kind (RFC 6120 §4–5): framing with a stanza-size limit, parsing against the
/// namespaces the peer's header declared, the TLS upgrade (either side), one write lock, stream errors, and a close
/// that does not lose the last bytes. It knows no feature: its owner — a client stream (<see cref="C2sConnection"/>), an
/// incoming server stream (S2s.S2sInboundConnection), an outgoing one (S2s.S2sClientStream) — reads elements with
/// <see cref="ReadAsync"/>, decides what they mean and offers its own features; the split Prosody has between its stream
/// code and mod_c2s / mod_s2s.
/// </summary>
public sealed partial class XmppStreamCore
{
    private static readonly byte[] StreamErrorOpen = "<stream:error>"u8.ToArray();
    private static readonly byte[] StreamErrorClose = "</stream:error></stream:stream>"u8.ToArray();
    private static readonly byte[] StreamClose = "</stream:stream>"u8.ToArray();
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private readonly IDuplexPipe _transport;
    private readonly XmlStreamFramer _framer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ILogger _log;
    private readonly Action? _transportOutputCompleted;
    private readonly TimeProvider? _time;
    private PipeReader _input;
    private PipeWriter _output;
    private SslStream? _tls;
    private NamespaceScope? _scope;
    private bool _outputClosed;
    private bool _headerSent;
    private int _closing;

    /// <param name="transport">the connection's pipes (Kestrel's, or <see cref="SocketDuplexPipe"/> for outgoing streams)</param>
    /// <param name="contentNamespace">the stream's default namespace (jabber:client, jabber:server): elements in it are written without xmlns</param>
    /// <param name="writeHeader">writes our stream header; used when a stream error must be sent before we sent one (RFC 6120 §4.9.1.1)</param>
    /// <param name="transportOutputCompleted">called once the transport's output is complete, to send FIN where completing the pipe does not</param>
    /// <param name="time">when given, <see cref="LastReceivedAt"/> is kept (keepalive checks)</param>
    public XmppStreamCore(IDuplexPipe transport, int maxStanzaBytes, string contentNamespace, ILogger log,
        Action<IBufferWriter<byte>>? writeHeader = null, Action? transportOutputCompleted = null, TimeProvider? time = null)
    {
        _time = time;
        _transport = transport;
        _framer = new XmlStreamFramer(maxStanzaBytes);
        _input = transport.Input;
        _output = transport.Output;
        ContentNamespace = contentNamespace;
        _log = log;
        WriteHeader = writeHeader;
        _transportOutputCompleted = transportOutputCompleted;
    }

    public string ContentNamespace { get; }

    /// <summary>Writes our header; the owner may set it once it knows what the header says (the peer's 'to', say).</summary>
    public Action<IBufferWriter<byte>>? WriteHeader { get; set; }

    public bool IsSecure => _tls is not null;

    public SslStream? Tls => _tls;

    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Timestamp (of the TimeProvider given) of the last bytes received, whitespace keepalives included.</summary>
    public long LastReceivedAt { get; private set; }

    /// <summary>The namespaces the peer's current header declared (its default namespace is the stream's content namespace).</summary>
    public NamespaceScope? Scope => _scope;

    /// <summary>
    /// Reads the next token. Whitespace keepalives are skipped; a framing or parsing error throws
    /// <see cref="XmppStreamException"/>. <see cref="StreamTokenKind.Closed"/> when the transport ended or the stream is closing.
    /// </summary>
    /// <remarks>Pooled builder: a connection waiting for bytes would otherwise allocate a state machine per read.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<StreamToken> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (IsClosing) return new StreamToken(StreamTokenKind.Closed, null);
            var input = _input;
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (_time is not null) LastReceivedAt = _time.GetTimestamp();
            if (IsClosing)
            {
                input.AdvanceTo(buffer.End);
                return new StreamToken(StreamTokenKind.Closed, null);
            }
            bool found;
            XmlTokenKind kind;
            SequencePosition end;
            try
            {
                found = _framer.TryReadToken(buffer, out kind, out end);
            }
            catch
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                throw;
            }
            if (!found)
            {
                // Incomplete: keep it all, and wake only when more than what was examined arrives.
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled) return new StreamToken(StreamTokenKind.Closed, null);
                continue;
            }
            try
            {
                switch (kind)
                {
                    case XmlTokenKind.Ignorable:
                        continue;
                    case XmlTokenKind.StreamHeader:
                        // The header itself is not kept: an idle connection would hold it (some 250 bytes) for nothing.
                        var header = XmlParser.ParseStreamHeader(buffer.Slice(0, end), out var scope);
                        _scope = scope;
                        return new StreamToken(StreamTokenKind.Header, header);
                    case XmlTokenKind.StreamEnd:
                        return new StreamToken(StreamTokenKind.End, null);
                    default:
                        if (_scope is null) throw XmppStreamException.NotWellFormed("stanza before the stream header");
                        _inflating?.StanzaRead();
                        return new StreamToken(StreamTokenKind.Element, XmlParser.ParseStanza(buffer.Slice(0, end), _scope));
                }
            }
            finally
            {
                // Consumed and examined up to the token's end: what follows is unexamined, so the next read returns at once.
                input.AdvanceTo(end);
            }
        }
    }
}
