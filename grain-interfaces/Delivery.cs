namespace Mmss.GrainInterfaces;

/// <summary>
/// One stanza for a terminal, as grains describe it: who it is from, which message, and the opaque content the
/// gateway carries over unchanged. The gateway renders it with its own domain (spec: each hop rewrites domains).
/// </summary>
/// <param name="Seq">the mailbox sequence number, by which the gateway confirms what it has written.</param>
/// <param name="From">a UDN, "ACK"/"FAIL" for notices, or a full JID for ordinary messages.</param>
/// <param name="Payload">the original stanza's child elements, UTF-8 XML (MMS and ordinary messages).</param>
/// <param name="Properties">Jive properties of a notice (MsgType, ReturnCode, ...), in order.</param>
/// <param name="Emergency">an emergency MMS: the gateway writes it ahead of ordinary deliveries still queued.</param>
[GenerateSerializer, Immutable]
public sealed record Delivery(
    [property: Id(0)] long Seq,
    [property: Id(1)] DeliveryKind Kind,
    [property: Id(2)] string MessageId,
    [property: Id(3)] string From,
    [property: Id(4)] string? StanzaType,
    [property: Id(5)] byte[]? Payload,
    [property: Id(6)] IReadOnlyList<KeyValuePair<string, string>>? Properties,
    [property: Id(7)] bool Emergency = false);
