namespace Mmss.Gateway.Provisioning;

public sealed record SeedFile(List<UserRequest>? Users, List<GroupRequest>? Groups, List<PeerRequest>? Peers);
