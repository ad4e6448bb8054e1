using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Mmss.Gateway.C2s;

/// <summary>The XMPP listeners' certificate, built once into the context SslStream reuses for every handshake.</summary>
public sealed class ServerCertificateHolder(X509Certificate2 certificate)
{
    public X509Certificate2 Certificate { get; } = certificate;

    public SslStreamCertificateContext Context { get; } = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
}
