using System.ComponentModel.DataAnnotations;

namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss:Http": the HTTP listener for attachments (spec 7.4), the admin API, the console and XMPP over WebSocket.</summary>
public sealed class HttpOptions : IValidatableObject
{
    public const string Section = "Mmss:Http";

    public string BindAddress { get; set; } = "0.0.0.0";

    [Range(1, 65535)]
    public int Port { get; set; } = 8080;

    /// <summary>An HTTPS listener as well, with the XMPP listeners' certificate, for the console over wss://; 0 = none.</summary>
    [Range(0, 65535)]
    public int TlsPort { get; set; }

    /// <summary>
    /// Refused requests (400, 401, 403) one source address may make within <see cref="RefusalWindowSeconds"/>; past
    /// that its requests are answered 429 until the window ends, before any authentication or body parsing. 0: no limit.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxRefusalsPerAddress { get; set; } = 100;

    /// <summary>The window of <see cref="MaxRefusalsPerAddress"/>; it opens at an address's first refused request.</summary>
    [Range(1, 86400)]
    public int RefusalWindowSeconds { get; set; } = 60;

    /// <summary>Addresses whose refused requests this process remembers at most (the oldest are forgotten first).</summary>
    [Range(100, 10_000_000)]
    public int RefusalTableSize { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(BindAddress, out _))
            yield return new ValidationResult($"Mmss:Http:BindAddress '{BindAddress}' is not an IP address.");
        if (TlsPort == Port)
            yield return new ValidationResult("Mmss:Http:Port and Mmss:Http:TlsPort must differ (TlsPort 0 turns HTTPS off).");
    }
}
