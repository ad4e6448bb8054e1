namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// The outbound link to one peer MMSS (key: the peer's domain): one ordered, durable queue of what this domain owes
/// it. An item is stored before the call returns and removed only once the peer has accepted it over the link; a peer
/// unreachable past the give-up window makes the MMS fail with FAIL 6 for its originator.
/// </summary>
public interface IPeerLinkGrain : IGrainWithStringKey
{
    /// <summary>An MMS for a user of the peer's domain (with <paramref name="group"/>: a member's copy of that group's MMS).</summary>
    /// <remarks>
    /// The enqueuing calls interleave: each waits for its row's commit, and one at a time the link could queue no more
    /// than one item per commit of the store, whatever the load (about 1,000 a second here, a relay round trip's ceiling).
    /// </remarks>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<SubmitOutcome> RelayMmsAsync(MmsSubmission submission, string? group);

    /// <summary>The answer of <paramref name="answeredBy"/> (a user here) to an MMS that <paramref name="originator"/> (a user there) sent.</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task RelayAnswerAsync(string originator, string messageId, string answeredBy, string msgType, string? returnCode, string? group);

    /// <summary>An ordinary XMPP message for a user of the peer's domain.</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task RelayPlainAsync(string recipient, PlainMessage message);

    /// <summary>A gateway offers to carry this link; repeated while it lives, which also keeps the queue moving.</summary>
    Task AttachCarrierAsync(string gatewayId, [Immutable] IPeerLinkObserver carrier);

    /// <summary>
    /// The peer was removed from the peer directory: every queued MMS fails at once with FAIL 6 for its originator (a
    /// group member's copy counts as that member's FAIL), queued answers and ordinary messages are dropped.
    /// </summary>
    Task PeerRemovedAsync();

    /// <summary>The peer accepted these items.</summary>
    [Orleans.Concurrency.OneWay]
    Task SentAsync([Immutable] long[] seqs);

    /// <summary>The carrier could not hand these over (peer down, link refused); the queue tries again later.</summary>
    [Orleans.Concurrency.OneWay]
    Task SendFailedAsync([Immutable] long[] seqs, string reason);
}
