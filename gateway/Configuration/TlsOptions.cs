namespace Mmss.Gateway.Configuration;

/// <summary>
/// Section "Mmss:Tls". With no certificate configured a self-signed one is generated once into the data directory.
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Mmss:Tls";

    /// <summary>A PFX/PKCS#12 file, or a PEM certificate (with <see cref="KeyPath"/>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of the PFX file, if any.</summary>
    public string? Password { get; set; }
}
