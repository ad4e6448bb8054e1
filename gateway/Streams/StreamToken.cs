using Mmss.Protocol.Xml;

namespace Mmss.Gateway.Streams;

public enum StreamTokenKind
{
    /// <summary>The peer's &lt;stream:stream&gt;: <see cref="StreamToken.Element"/> is the header.</summary>
    Header,
    /// <summary>One top-level element: a stanza or a nonza.</summary>
    Element,
    /// <summary>The peer's &lt;/stream:stream&gt;.</summary>
    End,
    /// <summary>The transport ended, or this side is closing the stream.</summary>
    Closed,
}

public readonly record struct StreamToken(StreamTokenKind Kind, XmlElement? Element);
