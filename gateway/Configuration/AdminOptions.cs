namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss:Admin".</summary>
public sealed class AdminOptions
{
    public const string Section = "Mmss:Admin";

    /// <summary>Bearer token of the admin API. Unset: generated on first start, kept in the data directory and printed once.</summary>
    public string? Token { get; set; }
}
