namespace Mmss.GrainInterfaces;

/// <summary>
/// The presence of one resource of a user (RFC 6121 §4): who (UDN and resource: the gateway renders the full JID with
/// the domain of the stream it writes to), available or not, and the presence's child elements (show, status,
/// priority, extensions) as UTF-8 XML, carried over unchanged as message payloads are.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PresenceUpdate(
    [property: Id(0)] string Udn,
    [property: Id(1)] string Resource,
    [property: Id(2)] bool Available,
    [property: Id(3)] byte[]? Payload);
