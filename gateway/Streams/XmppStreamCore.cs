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
public sealed class XmppStreamCore
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

    /// <summary>The peer's current stream header, once read.</summary>
    public XmlElement? PeerHeader { get; private set; }

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
                        PeerHeader = XmlParser.ParseStreamHeader(buffer.Slice(0, end), out var scope);
                        _scope = scope;
                        return new StreamToken(StreamTokenKind.Header, PeerHeader);
                    case XmlTokenKind.StreamEnd:
                        return new StreamToken(StreamTokenKind.End, null);
                    default:
                        if (_scope is null) throw XmppStreamException.NotWellFormed("stanza before the stream header");
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

    /// <summary>
    /// RFC 6120 §5.4.3.3: nothing received in the clear after &lt;starttls/&gt; may be kept (it could be injected). The
    /// receiving entity calls this before it writes &lt;proceed/&gt;: after that the peer's ClientHello may already be
    /// buffered, and must not be lost.
    /// </summary>
    public void DiscardBufferedInput()
    {
        if (_input.TryRead(out var pending)) _input.AdvanceTo(pending.Buffer.End);
    }

    /// <summary>STARTTLS as the receiving entity, after &lt;proceed/&gt; was written, or direct TLS.</summary>
    public Task StartTlsAsServerAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken) =>
        StartTlsAsync(tls => tls.AuthenticateAsServerAsync(options, cancellationToken));

    /// <summary>STARTTLS as the initiating entity, after &lt;proceed/&gt; was read (the receiving entity sends nothing more in the clear).</summary>
    public Task StartTlsAsClientAsync(SslClientAuthenticationOptions options, CancellationToken cancellationToken) =>
        StartTlsAsync(tls => tls.AuthenticateAsClientAsync(options, cancellationToken));

    private async Task StartTlsAsync(Func<SslStream, Task> authenticate)
    {
        await _writeLock.WaitAsync();
        try
        {
            var tls = new SslStream(new DuplexPipeStream(_transport), leaveInnerStreamOpen: false);
            try
            {
                await authenticate(tls);
            }
            catch
            {
                await tls.DisposeAsync();
                throw;
            }
            _tls = tls;
            OpenSslIdleBuffers.TryRelease(tls, _log);
            // Zero-byte reads: an idle stream holds no read buffer, neither here nor in SslStream, until bytes arrive.
            _input = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true,
                useZeroByteReads: true));
            _output = PipeWriter.Create(tls, new StreamPipeWriterOptions(leaveOpen: true));
            Restart();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>RFC 6120 §4.3.3: after TLS (and SASL) both sides start a new stream.</summary>
    public void Restart()
    {
        _framer.Reset();
        _scope = null;
        PeerHeader = null;
        _headerSent = false;
    }

    /// <summary>Writes our stream header (through <see cref="WriteHeader"/>) unless already sent on this stream.</summary>
    public async ValueTask SendHeaderAsync()
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
        WriteHeader?.Invoke(_output);
    }

    /// <summary>Writes one element (stanza or nonza) in the stream's content namespace. False when the output is closed.</summary>
    public ValueTask<bool> SendAsync(XmlElement element) =>
        WriteAsync((element, ContentNamespace), static (output, state) => XmlWriter.Write(output, state.element, state.ContentNamespace));

    /// <summary>
    /// Runs <paramref name="write"/> under the write lock and flushes; the callback sees a consistent order with every
    /// other writer (what XEP-0198 counting needs). False when the output is already closed.
    /// </summary>
    public async ValueTask<bool> WriteAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, bool closeAfter = false)
    {
        using var output = await AcquireOutputAsync();
        if (output.IsClosed) return false;
        write(output.Writer, state);
        if (closeAfter) output.MarkClosed();
        await output.FlushAsync();
        return true;
    }

    /// <summary>
    /// Takes the write lock for a sequence of writes that must not interleave with others (a run of deliveries and their
    /// &lt;r/&gt;); dispose the lease to release it. Check <see cref="OutputLease.IsClosed"/> before writing.
    /// </summary>
    public async ValueTask<OutputLease> AcquireOutputAsync()
    {
        await _writeLock.WaitAsync();
        return new OutputLease(this);
    }

    /// <summary>The write lock held, and the writer of the current transport (plain or TLS).</summary>
    public readonly struct OutputLease : IDisposable
    {
        private readonly XmppStreamCore _core;

        internal OutputLease(XmppStreamCore core) => _core = core;

        /// <summary>The stream has ended in this direction (stream error or close written): write nothing more.</summary>
        public bool IsClosed => _core._outputClosed;

        public PipeWriter Writer => _core._output;

        /// <summary>Whatever is written now is the last: nothing may follow it on the stream.</summary>
        public void MarkClosed() => _core._outputClosed = true;

        public ValueTask<FlushResult> FlushAsync() => _core._output.FlushAsync();

        public void Dispose() => _core._writeLock.Release();
    }

    public ValueTask<bool> WriteRawAsync(ReadOnlyMemory<byte> bytes, bool closeAfter = false) =>
        WriteAsync(bytes, static (output, b) => output.Write(b.Span), closeAfter);

    /// <summary>Ends the stream with a stream error (RFC 6120 §4.9) and stops reading. Safe to call from any thread, any number of times.</summary>
    public async Task CloseAsync(StreamErrorCondition condition, string? text)
    {
        if (!TryBeginClose()) return;
        await SendStreamErrorAsync(condition, text);
    }

    /// <summary>Marks the stream closing; true for the one caller that did it (who then sends the error or the close).</summary>
    public bool TryBeginClose() => Interlocked.Exchange(ref _closing, 1) == 0;

    /// <summary>The second half of <see cref="CloseAsync"/>, for an owner that must act between marking and sending.</summary>
    public async Task SendStreamErrorAsync(StreamErrorCondition condition, string? text)
    {
        Interlocked.Exchange(ref _closing, 1);
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
                    XmlWriter.Write(_output, new XmlElement(condition.ToElementName(), Namespaces.StreamErrors), ContentNamespace);
                    if (text is not null) XmlWriter.Write(_output, new XmlElement("text", Namespaces.StreamErrors).AddText(text), ContentNamespace);
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
            _log.LogDebug("Could not send stream error {Condition}: {Reason}", condition.ToElementName(), e.Message);
        }
        finally
        {
            _input.CancelPendingRead();
        }
    }

    /// <summary>Ends our direction of the stream with &lt;/stream:stream&gt; (RFC 6120 §4.4).</summary>
    /// <param name="stopReading">
    /// wake a read pending elsewhere so that its loop ends; the read loop itself passes false, and so keeps the
    /// transport's input readable for <see cref="ShutdownAsync"/>'s drain
    /// </param>
    public async Task CloseGracefullyAsync(bool stopReading = true)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        try
        {
            await WriteRawAsync(StreamClose, closeAfter: true);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
            _log.LogDebug("Could not close the stream: {Reason}", e.Message);
        }
        finally
        {
            if (stopReading) _input.CancelPendingRead();
        }
    }

    /// <summary>
    /// Closes the transport: our direction first (TLS close_notify, then FIN), then reads what the peer still sends until it
    /// closes too or a short grace passes. Closing a socket with unread input makes the kernel send a reset, which can
    /// destroy the stream error the peer has not read yet.
    /// </summary>
    public async Task ShutdownAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        await _writeLock.WaitAsync();
        try
        {
            _outputClosed = true;
            if (_tls is not null)
            {
                await _output.CompleteAsync();
                await _tls.ShutdownAsync();
            }
            await _transport.Output.CompleteAsync();
            _transportOutputCompleted?.Invoke();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or AuthenticationException
                                       or ConnectionResetException)
        {
            _log.LogDebug("Closing the transport: {Reason}", e.Message);
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
                var result = await _transport.Input.ReadAsync(grace.Token);
                _transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException
                                       or ConnectionResetException)
        {
        }
        if (_tls is not null) await _tls.DisposeAsync();
    }
}

public enum StreamTokenKind
{
    /// <summary>The peer's &lt;stream:stream&gt;: <see cref="StreamToken.Element"/> is the header.</summary>
    Header,
    /// <summary>One top-level element: a stanza or a nonza.</summary>
    Element,
    /// <summary>The peer's &lt;/stream:stream&gt;.</summary>
    End,
    /// <summary>The transport ended, or this side is closing the stream.</summary>
    Closed,
}

public readonly record struct StreamToken(StreamTokenKind Kind, XmlElement? Element);
