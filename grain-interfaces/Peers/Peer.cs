using System.Security.Cryptography;
using System.Text;

namespace Mmss.GrainInterfaces.Peers;

/// <summary>A peer MMSS, validated: see <see cref="PeerOptions"/> and <see cref="PeerRecord"/>.</summary>
/// <param name="Secret">presented to the peer when handing attachments over.</param>
/// <param name="InboundSecretHash">what the peer must present to us (<see cref="PeerSecretHash"/>); null: <paramref name="Secret"/> itself.</param>
/// <param name="Configured">from this process's configuration (<c>Mmss:Peers</c>), not from the peer directory.</param>
public sealed record Peer(string Domain, string Host, int Port, Uri? HttpAddress, NumberRanges Udns, NumberRanges Gdns, string Secret,
    byte[]? InboundSecretHash = null, bool Configured = true)
{
    public const int DefaultPort = 5269;

    /// <summary>Whether <paramref name="presented"/> is the secret this peer authenticates with.</summary>
    public bool AcceptsSecret(string presented) =>
        InboundSecretHash is not null
            ? PeerSecretHash.Matches(InboundSecretHash, presented)
            : Secret.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(presented));

    /// <summary>Its server-to-server address as an operator writes it.</summary>
    public string Address => (Host.Contains(':') ? $"[{Host}]" : Host) + ":" + Port;

    public override string ToString() => $"{Domain} ({Host}:{Port}; UDNs {Udns}; GDNs {Gdns})";
}
