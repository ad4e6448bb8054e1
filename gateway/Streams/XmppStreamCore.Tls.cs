using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Hosting;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Streams;

/// <summary>The TLS upgrade, as either side (RFC 6120 §5), and the stream restart that follows it.</summary>
public sealed partial class XmppStreamCore
{
    // Zero-byte reads: an idle stream holds no read buffer, neither here nor in SslStream, until bytes arrive. Shared: one
    // options object per connection was 19,000 identical copies at 19,000 terminals.
    private static readonly StreamPipeReaderOptions TlsReaderOptions = new(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true,
        useZeroByteReads: true);
    private static readonly StreamPipeWriterOptions TlsWriterOptions = new(leaveOpen: true);

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
            var socket = SocketForTls();
            var tls = new SslStream(socket?.Stream ?? new DuplexPipeStream(_transport), leaveInnerStreamOpen: false);
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
            socket?.ReleasePipes();
            OpenSslIdleBuffers.TryRelease(tls, _log);
            NativeHeap.TrimSoon(_log);
            _input = PipeReader.Create(tls, TlsReaderOptions);
            _output = PipeWriter.Create(tls, TlsWriterOptions);
            Restart();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// The socket TLS runs over directly, if any: when the transport is one and nothing read waits in its pipe (direct TLS,
    /// or STARTTLS once the cleartext after &lt;starttls/&gt; was discarded). That saves a layer of pipes and a copy per
    /// record; otherwise (null) TLS runs over the transport's pipes as a stream (Kestrel's, WebSocket's, or bytes already
    /// buffered).
    /// </summary>
    private SocketDuplexPipe? SocketForTls()
    {
        if (_transport is not SocketDuplexPipe socket || _input != _transport.Input) return null;
        if (!_input.TryRead(out var pending)) return socket;
        _input.AdvanceTo(pending.Buffer.Start);
        return pending.Buffer.IsEmpty && !pending.IsCompleted ? socket : null;
    }

    /// <summary>RFC 6120 §4.3.3: after TLS (and SASL) both sides start a new stream.</summary>
    public void Restart()
    {
        _framer.Reset();
        _scope = null;
        _headerSent = false;
    }
}
