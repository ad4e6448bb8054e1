namespace Mmss.Gateway.Provisioning;

/// <summary>The admin API's and seed file's user: {"udn":"1101","password":"pw","name":"Unit 1","emergency":true}.</summary>
/// <param name="Emergency">may send emergency MMS (Priority=emergency); omitted: unchanged (false for a new user).</param>
/// <param name="LegacyDigest">
/// keep the password itself for XEP-0078 digest logins (a password equivalent); true needs the password, false drops
/// it; omitted: unchanged (false for a new user).
/// </param>
public sealed record UserRequest(string? Udn, string? Password, string? Name, bool? Emergency = null, bool? LegacyDigest = null);
