namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss:Provisioning".</summary>
public sealed class ProvisioningOptions
{
    public const string Section = "Mmss:Provisioning";

    /// <summary>A JSON file of users and groups applied idempotently at every start.</summary>
    public string? SeedFile { get; set; }
}
