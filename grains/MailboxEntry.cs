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
/// <param name="Direct">
/// an MMS this user grain accepted itself (no message grain): it keeps the content hash that tells a retry from a
/// reused id, and the answer it relayed, which a retry after a lost ACK gets again.
/// </param>
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
    [property: Id(13)] DateTimeOffset? AnsweredAt = null)
{
    public Delivery ToDelivery() => new(Seq, Kind, MessageId, From, StanzaType, Payload, Properties);
}
