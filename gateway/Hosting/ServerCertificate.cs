using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Hosting;

/// <summary>The TLS certificate of the XMPP listeners: the configured one, or a self-signed one made once and kept.</summary>
public static class ServerCertificate
{
    public static X509Certificate2 Load(TlsOptions options, string dataDirectory, ServedDomains domains, ILogger logger)
    {
        if (!string.IsNullOrEmpty(options.CertificatePath))
        {
            var path = options.CertificatePath;
            if (!File.Exists(path)) throw new FileNotFoundException($"Mmss:Tls:CertificatePath '{path}' does not exist.", path);
            var certificate = !string.IsNullOrEmpty(options.KeyPath)
                ? X509Certificate2.CreateFromPemFile(path, options.KeyPath)
                : X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
            // Re-importing as PKCS#12 gives the key a form SslStream can use on every platform.
            certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
            logger.LogInformation("TLS certificate {Subject} loaded from {Path}", certificate.Subject, path);
            return certificate;
        }

        var generated = Path.Combine(dataDirectory, "tls", "server.pfx");
        if (File.Exists(generated))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(generated, null);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(generated)!);
        var pfx = CreateSelfSigned(domains);
        var temporary = generated + ".tmp";
        File.WriteAllBytes(temporary, pfx);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, generated, overwrite: true);
        logger.LogWarning("No TLS certificate configured: generated a self-signed one for {Domains} at {Path}", domains.All, generated);
        return X509CertificateLoader.LoadPkcs12(pfx, null);
    }

    private static byte[] CreateSelfSigned(ServedDomains domains)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={domains.Default}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var domain in domains.All)
        {
            if (IPAddress.TryParse(domain, out var ip)) san.AddIpAddress(ip);
            else san.AddDnsName(domain);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
        return certificate.Export(X509ContentType.Pkcs12);
    }
}
