using System.Collections.Frozen;

namespace Mmss.Protocol.Xml;

/// <summary>
/// Names and namespaces that occur in nearly every stanza, looked up without allocating a new string.
/// </summary>
internal static class KnownNames
{
    private static readonly FrozenSet<string> Names = FrozenSet.Create(StringComparer.Ordinal,
    [
        "message", "iq", "presence", "body", "subject", "thread", "properties", "property", "name", "value",
        "type", "id", "to", "from", "xml:lang", "xmlns", "stream", "stream:stream", "version", "error", "query",
        "ping", "bind", "resource", "jid", "session", "auth", "response", "challenge", "success", "failure",
        "starttls", "proceed", "abort", "mechanism", "r", "a", "h", "enable", "resume", "show", "status",
        "priority", "string", "chat", "normal", "get", "set", "result", "lang", "xml", "MsgType", "ReturnCode",
        "MsgText", "attach", "MsgGroup", "original_image_attached",
        Xmpp.Namespaces.Client, Xmpp.Namespaces.Streams, Xmpp.Namespaces.Sasl, Xmpp.Namespaces.Tls,
        Xmpp.Namespaces.Bind, Xmpp.Namespaces.Session, Xmpp.Namespaces.Ping, Xmpp.Namespaces.Roster,
        Xmpp.Namespaces.DiscoInfo, Xmpp.Namespaces.DiscoItems, Xmpp.Namespaces.JiveProperties, Xmpp.Namespaces.Stanzas,
        "urn:xmpp:sm:3",
    ]);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Names.GetAlternateLookup<ReadOnlySpan<char>>();

    public static string Get(ReadOnlySpan<char> chars) =>
        Lookup.TryGetValue(chars, out var known) ? known : new string(chars);
}
