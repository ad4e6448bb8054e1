namespace Mmss.GrainInterfaces;

/// <summary>An ordinary XMPP message (no Jive properties), routed as RFC 6121 §8.5 says.</summary>
/// <param name="From">the sender's full JID.</param>
[GenerateSerializer, Immutable]
public sealed record PlainMessage(
    [property: Id(0)] string? MessageId,
    [property: Id(1)] string From,
    [property: Id(2)] string? StanzaType,
    [property: Id(3)] byte[] Payload);
