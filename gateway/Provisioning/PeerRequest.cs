namespace Mmss.Gateway.Provisioning;

/// <summary>
/// The admin API's and seed file's peer MMSS: {"domain":"10.0.0.3","address":"10.0.0.3:5269",
/// "httpAddress":"http://10.0.0.3:8080/","udns":"3000-3999","gdns":"30000-30999","secret":"..."}. <c>secret</c> is
/// presented to the peer and, unless <c>inboundSecret</c> is given, also expected from it.
/// </summary>
public sealed record PeerRequest(string? Domain, string? Address, string? HttpAddress, string? Udns, string? Gdns, string? Secret, string? InboundSecret);
