namespace Mmss.Protocol.Xml;

public enum XmlTokenKind
{
    /// <summary>Whitespace between stanzas (a keepalive), or the XML declaration before the stream header.</summary>
    Ignorable,
    /// <summary>The &lt;stream:stream&gt; open tag.</summary>
    StreamHeader,
    /// <summary>One complete top-level element of the stream.</summary>
    Stanza,
    /// <summary>&lt;/stream:stream&gt;.</summary>
    StreamEnd,
}
