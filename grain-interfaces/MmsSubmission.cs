namespace Mmss.GrainInterfaces;

/// <summary>An MMS as the originator sent it (spec 7.5.1); the grain decides whether it is well formed.</summary>
/// <param name="MsgType">the MsgType property as sent, null when absent.</param>
/// <param name="Payload">the stanza's child elements, UTF-8 XML, carried to the recipient unchanged.</param>
/// <param name="MsgGroup">the MsgGroup property as sent, null when absent.</param>
/// <param name="DeliveryReport">the vendor property DeliveryReport=true: the sender wants MsgType 101 reports.</param>
/// <param name="Attach">the attach property as sent: file names uploaded before the MMS, comma separated.</param>
/// <param name="Emergency">the vendor property Priority=emergency: ahead of ordinary traffic, if the sender may send it.</param>
[GenerateSerializer, Immutable]
public sealed record MmsSubmission(
    [property: Id(0)] string MessageId,
    [property: Id(1)] string Sender,
    [property: Id(2)] string Recipient,
    [property: Id(3)] string? MsgType,
    [property: Id(4)] string? StanzaType,
    [property: Id(5)] byte[] Payload,
    [property: Id(6)] string? MsgGroup = null,
    [property: Id(7)] bool DeliveryReport = false,
    [property: Id(8)] string? Attach = null,
    [property: Id(9)] bool Emergency = false);
