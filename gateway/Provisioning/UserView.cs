namespace Mmss.Gateway.Provisioning;

/// <summary>A user as the admin API shows it: never any secret.</summary>
public sealed record UserView(string Udn, string Name, bool Emergency);
