using System.IO.Pipelines;
using System.Net.Security;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>STARTTLS (RFC 6120 §5) and direct TLS: the pipes are swapped for pipes over an SslStream.</summary>
public sealed partial class C2sConnection
{
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
            OpenSslIdleBuffers.TryRelease(tls, Log);
            // Zero-byte reads: an idle connection holds no read buffer, neither here nor in SslStream, until bytes arrive.
            _input = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true,
                useZeroByteReads: true));
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
}
