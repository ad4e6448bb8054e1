namespace Mmss.Gateway.Provisioning;

/// <summary>A peer as the admin API shows it: never a secret. <c>Source</c>: "configuration" (Mmss:Peers) or "directory" (admin API, seed file).</summary>
public sealed record PeerView(string Domain, string Address, string? HttpAddress, string Udns, string Gdns, string Source);

/// <summary>The peer table this gateway routes by, and the peer directory version it holds.</summary>
public sealed record PeerTableView(long Version, IReadOnlyList<PeerView> Peers);
