using System.ComponentModel.DataAnnotations;

namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss:Http": the HTTP listener for attachments (spec 7.4) and the admin API.</summary>
public sealed class HttpOptions : IValidatableObject
{
    public const string Section = "Mmss:Http";

    public string BindAddress { get; set; } = "0.0.0.0";

    [Range(1, 65535)]
    public int Port { get; set; } = 8080;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(BindAddress, out _))
            yield return new ValidationResult($"Mmss:Http:BindAddress '{BindAddress}' is not an IP address.");
    }
}
