using System.Net.Security;
using Mmss.Protocol.Xml;

namespace Mmss.Gateway.C2s;

/// <summary>STARTTLS (RFC 6120 §5) and direct TLS: the stream core swaps its pipes for pipes over an SslStream.</summary>
public sealed partial class C2sConnection
{
    private static readonly byte[] TlsProceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"u8.ToArray();
    private static readonly byte[] TlsFailure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"u8.ToArray();

    private async ValueTask<Next> HandleStartTlsAsync(XmlElement stanza)
    {
        if (stanza.Name != "starttls" || IsSecure || Udn is not null)
        {
            await _core.WriteRawAsync(TlsFailure, closeAfter: true);
            return Next.Close;
        }
        // RFC 6120 §5.4.3.3: whatever followed <starttls/> in the clear is dropped before <proceed/> invites the ClientHello.
        _core.DiscardBufferedInput();
        await _core.WriteRawAsync(TlsProceed);
        return Next.StartTls;
    }

    private async Task StartTlsAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_services.Options.LoginTimeoutSeconds));
        await _core.StartTlsAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = _services.Certificate.Context,
            ClientCertificateRequired = false,
        }, timeout.Token);
        IsSecure = true;
        Diagnostics.GatewayMetrics.ConnectionSecured(_listener);
        Log.LogDebug("Connection {ConnectionId} from {Address} secured with {Protocol}", Id, RemoteAddress, _core.Tls!.SslProtocol);
    }

    // RFC 6120 §4.3.3: after TLS and after SASL success both sides start a new stream.
    private void RestartStream() => _core.Restart();
}
