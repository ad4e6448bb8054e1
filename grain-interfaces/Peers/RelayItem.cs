namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// One item of a peer link's outbound queue, as the gateway carrying the link renders it: an MMS (or a member's copy
/// of a group MMS), an answer travelling back to the originator's home MMSS, or an ordinary message. Numbers are UDNs
/// of this domain (From) and of the peer's (To); the gateway adds the domains of the hop (spec: each hop rewrites them).
/// </summary>
/// <param name="Seq">the queue's sequence number, by which the gateway confirms what the peer accepted.</param>
/// <param name="From">MMS: the originator's UDN. Answer: the member who answered. Ordinary message: the sender's full JID.</param>
/// <param name="To">MMS: the recipient's UDN. Answer: the originator's UDN. Ordinary message: the recipient's UDN.</param>
/// <param name="Payload">MMS and ordinary messages: the original stanza's children, UTF-8 XML.</param>
/// <param name="Properties">
/// MMS: properties added to the copy (MsgGroup on a member's copy). Answer: MsgType, ReturnCode and, for a group
/// member's answer, MsgGroup.
/// </param>
/// <param name="Attach">MMS: the attachment file names to hand over before the MMS (the attach property).</param>
[GenerateSerializer, Immutable]
public sealed record RelayItem(
    [property: Id(0)] long Seq,
    [property: Id(1)] DeliveryKind Kind,
    [property: Id(2)] string MessageId,
    [property: Id(3)] string From,
    [property: Id(4)] string To,
    [property: Id(5)] string? StanzaType,
    [property: Id(6)] byte[]? Payload,
    [property: Id(7)] IReadOnlyList<KeyValuePair<string, string>>? Properties,
    [property: Id(8)] string? Attach);
