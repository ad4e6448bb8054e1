namespace Mmss.Protocol.Xmpp;

/// <summary>A protocol violation that ends the stream with a &lt;stream:error/&gt; (RFC 6120 §4.9).</summary>
public sealed class XmppStreamException(StreamErrorCondition condition, string? text = null)
    : Exception(text ?? condition.ToElementName())
{
    public StreamErrorCondition Condition { get; } = condition;

    public string? Text { get; } = text;

    public static XmppStreamException NotWellFormed(string text) => new(StreamErrorCondition.NotWellFormed, text);

    public static XmppStreamException RestrictedXml(string text) => new(StreamErrorCondition.RestrictedXml, text);
}
