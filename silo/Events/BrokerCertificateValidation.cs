using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;

namespace Mmss.Silo.Events;

/// <summary>
/// Whether the external broker's TLS certificate is trusted: valid for the broker's name (Mmss:Mqtt:Server) and chaining
/// to the system's roots, or, with Mmss:Mqtt:CaCertificatePath, to the CA certificates of that PEM file only.
/// </summary>
public sealed class BrokerCertificateValidation
{
    private readonly X509Certificate2Collection? _trustedRoots;

    public BrokerCertificateValidation(string? caCertificatePath)
    {
        if (caCertificatePath is null) return;
        _trustedRoots = [];
        _trustedRoots.ImportFromPemFile(caCertificatePath);
    }

    public bool Validate(MqttClientCertificateValidationEventArgs args)
    {
        if (_trustedRoots is null) return args.SslPolicyErrors == SslPolicyErrors.None;
        if (args.Certificate is null || (args.SslPolicyErrors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trustedRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (args.Chain is { } presented)
        {
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        var certificate = args.Certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(args.Certificate.GetRawCertData());
        return chain.Build(certificate);
    }
}
