using Mmss.Protocol.Xml;

namespace Mmss.Protocol.Xmpp;

/// <summary>
/// An XEP-0078 jabber:iq:auth query: &lt;username/&gt;, &lt;password/&gt; or &lt;digest/&gt;, &lt;resource/&gt;. Empty
/// elements and absent ones both read as null (an empty field is no answer).
/// </summary>
public sealed record LegacyAuthRequest(string? Username, string? Password, string? Digest, string? Resource)
{
    public static LegacyAuthRequest Parse(XmlElement query) => new(
        Field(query, "username"), Field(query, "password"), Field(query, "digest"), Field(query, "resource"));

    /// <summary>XEP-0078 §3: a set needs username, resource, and a password or a digest.</summary>
    public bool IsComplete => Username is not null && Resource is not null && (Password is not null || Digest is not null);

    private static string? Field(XmlElement query, string name) =>
        query.Element(name, Namespaces.IqAuth)?.Text is { Length: > 0 } text ? text : null;
}
