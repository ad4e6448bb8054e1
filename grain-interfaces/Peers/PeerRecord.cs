namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// A peer MMSS as the peer directory stores it (defined through the admin API or the seed file), in the words an
/// operator wrote; <see cref="PeerDefinition.Compile"/> checks it and makes a <see cref="Peer"/> of it.
/// </summary>
/// <param name="Secret">what this domain presents to the peer when it hands attachments over: kept, since it is sent.</param>
/// <param name="InboundSecretHash">what the peer presents to us, only as <see cref="PeerSecretHash"/> (it is only checked).</param>
[GenerateSerializer, Immutable]
public sealed record PeerRecord(
    [property: Id(0)] string Domain,
    [property: Id(1)] string Address,
    [property: Id(2)] string HttpAddress,
    [property: Id(3)] string Udns,
    [property: Id(4)] string Gdns,
    [property: Id(5)] string Secret,
    [property: Id(6)] byte[]? InboundSecretHash)
{
    /// <summary>The same definition, secrets aside (those are compared by their owner).</summary>
    public bool SameRouting(PeerRecord other) =>
        Domain == other.Domain && Address == other.Address && HttpAddress == other.HttpAddress && Udns == other.Udns && Gdns == other.Gdns;
}
