using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// One stored item of a user's mailbox: an MMS awaiting ACK/FAIL (kept, payload dropped, once answered so that a
/// later ACK "read" still finds its sender), a notice, or an ordinary message.
/// </summary>
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
    [property: Id(8)] bool Answered)
{
    public Delivery ToDelivery() => new(Seq, Kind, MessageId, From, StanzaType, Payload, Properties);
}
