namespace Mmss.Gateway.Provisioning;

/// <summary>The admin API's and seed file's user: {"udn":"1101","password":"pw","name":"Unit 1"}.</summary>
public sealed record UserRequest(string? Udn, string? Password, string? Name);
