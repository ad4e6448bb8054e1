namespace Mmss.GrainInterfaces;

[GenerateSerializer]
public enum DeliveryKind
{
    /// <summary>An MMS (spec 7.5.1): stays until the terminal's ACK or FAIL.</summary>
    Mms = 0,
    /// <summary>An ACK/FAIL (or vendor report) relayed to the originator (spec 7.5.2).</summary>
    Notice = 1,
    /// <summary>An ordinary XMPP message without Jive properties (RFC 6121).</summary>
    Plain = 2,
}
