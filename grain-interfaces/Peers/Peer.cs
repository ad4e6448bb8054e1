namespace Mmss.GrainInterfaces.Peers;

/// <summary>A peer MMSS, validated: see <see cref="PeerOptions"/>.</summary>
public sealed record Peer(string Domain, string Host, int Port, Uri? HttpAddress, NumberRanges Udns, NumberRanges Gdns, string Secret)
{
    public const int DefaultPort = 5269;

    public override string ToString() => $"{Domain} ({Host}:{Port}; UDNs {Udns}; GDNs {Gdns})";
}
