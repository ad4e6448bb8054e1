namespace Mmss.Gateway.Provisioning;

public enum ProvisioningOutcome
{
    Created,
    Exists,
    Updated,
    Unchanged,
    NotFound,
    Invalid,

    /// <summary>Clashes with what exists (another peer's numbers, a configured peer, our own domain).</summary>
    Conflict,
}

/// <summary>An outcome and, when invalid, what to fix.</summary>
public readonly record struct ProvisioningResult(ProvisioningOutcome Outcome, string? Error = null)
{
    public static ProvisioningResult Invalid(string error) => new(ProvisioningOutcome.Invalid, error);
}
