using Mmss.GrainInterfaces.Peers;

namespace Mmss.GrainInterfaces;

/// <summary>Where an MMS goes in: the one entry point for gateways (and tests) so that both take the same path.</summary>
public static class MmsSubmitter
{
    /// <summary>
    /// A one-to-one MMS without attachments is the recipient's user grain's alone: it stores, deduplicates and relays
    /// the answer without a grain of its own per message (one storage write on the way in). Group messages, messages
    /// with attachments and unknown recipients go through the message grain, which fans out, checks uploads and
    /// grants attachment access. A recipient another MMSS is home for (by its number, or by the domain the terminal
    /// named) goes to that peer's link (seed 6.5); <paramref name="peers"/> is null for MMS that arrived from a peer,
    /// which are never relayed onwards.
    /// An emergency MMS is refused with FAIL 2 unless its sender's user grain says it may send one: the grain is asked
    /// each time (no cached profile decides), and only for emergencies, so ordinary traffic pays nothing. An emergency
    /// from a peer was authorised by the peer, which alone provisions its sender.
    /// </summary>
    public static async Task<SubmitOutcome> SubmitAsync(IGrainFactory grains, MmsSubmission submission, PeerTable? peers = null,
        string? recipientDomain = null)
    {
        if (submission.Emergency && peers is not null && !await grains.User(submission.Sender).MaySendEmergencyAsync())
        {
            return SubmitOutcome.Failed(FailCode.NotAllowed, $"{submission.Sender} is not allowed to send emergency messages");
        }
        if (peers is { IsEmpty: false } && HomeOf(peers, submission.Recipient, recipientDomain) is { } peer)
        {
            return await grains.Reference<IPeerLinkGrain>(peer.Domain).RelayMmsAsync(submission, group: null);
        }
        if (submission.Attach is null &&
            await grains.User(submission.Recipient).SubmitMmsAsync(submission) is { } outcome)
        {
            return outcome;
        }
        return await grains.Reference<IMessageGrain>(MessageKey.For(submission.Sender, submission.MessageId)).SubmitAsync(submission);
    }

    /// <summary>The peer home for a UDN or GDN, or for the domain the sender named; null when it is ours.</summary>
    public static Peer? HomeOf(PeerTable peers, string number, string? domain) =>
        peers.FindByUdn(number) ?? peers.FindByGdn(number) ?? peers.FindByDomain(domain);
}
