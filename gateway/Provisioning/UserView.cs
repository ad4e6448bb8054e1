namespace Mmss.Gateway.Provisioning;

/// <summary>A user as the admin API shows it: never any secret.</summary>
/// <param name="LegacyDigest">whether the password is kept for XEP-0078 digest logins (never the password).</param>
public sealed record UserView(string Udn, string Name, bool Emergency, bool LegacyDigest);
