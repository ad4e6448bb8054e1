using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// One stored item of a user's mailbox: an MMS awaiting ACK/FAIL (kept, payload dropped, once answered so that a
/// later ACK "read" still finds its sender), a notice, or an ordinary message.
/// </summary>
/// <param name="AnsweredAt">
/// when the last answer was recorded: an answer is recorded before it is relayed, and an activation that finds one
/// recorded moments ago relays it again, since the activation before it may have died in between.
/// </param>
/// <param name="To">a peer link's item: its recipient in the peer's domain.</param>
/// <param name="Group">
/// an MMS from another domain that is a member's copy of a group MMS there (its GDN): the answer goes back marked so; in a
/// peer link's queue, the GDN of the copy or answer.
/// </param>
/// <param name="Attach">a peer link's MMS: the attachments to hand over first.</param>
/// <param name="QueuedAt">a peer link's item: when it was queued, from which the give-up window counts.</param>
/// <param name="Direct">
/// an MMS this user grain accepted itself (no message grain): it keeps the content hash that tells a retry from a
/// reused id, and the answer it relayed, which a retry after a lost ACK gets again.
/// </param>
/// <param name="Emergency">an emergency MMS (Priority=emergency): delivered and written again ahead of the rest.</param>
[GenerateSerializer, Immutable]
public sealed record MailboxEntry(
    [property: Id(0)] long Seq,
    [property: Id(1)] DeliveryKind Kind,
    [property: Id(2)] string MessageId,
    [property: Id(3)] string From,
    [property: Id(4)] string? StanzaType,
    [property: Id(5)] byte[]? Payload,
    [property: Id(6)] IReadOnlyList<KeyValuePair<string, string>>? Properties,
    [property: Id(7)] DateTimeOffset ExpiresAt,
    [property: Id(8)] bool Answered,
    [property: Id(9)] bool Direct = false,
    [property: Id(10)] byte[]? ContentHash = null,
    [property: Id(11)] string? AnswerMsgType = null,
    [property: Id(12)] string? AnswerReturnCode = null,
    [property: Id(13)] DateTimeOffset? AnsweredAt = null,
    [property: Id(14)] string? To = null,
    [property: Id(15)] string? Group = null,
    [property: Id(16)] string? Attach = null,
    [property: Id(17)] DateTimeOffset? QueuedAt = null,
    [property: Id(18)] bool Emergency = false)
{
    public Delivery ToDelivery() => new(Seq, Kind, MessageId, From, StanzaType, Payload, Properties, Emergency);
}
