namespace Mmss.Gateway.Provisioning;

public enum ProvisioningOutcome
{
    Created,
    Exists,
    Updated,
    Unchanged,
    NotFound,
    Invalid,
}

/// <summary>An outcome and, when invalid, what to fix.</summary>
public readonly record struct ProvisioningResult(ProvisioningOutcome Outcome, string? Error = null)
{
    public static ProvisioningResult Invalid(string error) => new(ProvisioningOutcome.Invalid, error);
}
