using System.Buffers;
using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Tests;
using Mmss.Protocol.Xmpp;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// The c2s read path: <see cref="XmlStreamFramer"/> cuts the bytes into tokens, <see cref="XmlParser"/> parses them.
/// Only <see cref="XmppStreamException"/> may come out. Invariants: the tokens, and whether the size limit refuses the
/// stream, do not depend on how the bytes are split into reads; every parsed stanza written by <see cref="XmlWriter"/>
/// parses back to the same stanza.
/// The first input byte chooses the read size; the rest is the stream.
/// </summary>
public sealed class XmlStreamTarget : FuzzTarget
{
    public override string Name => "xml-stream";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Protocol.dll"];

    public override string Run(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var chunk = 1 + input[0] % 97;
        var stream = input.AsMemory(1);

        // A limit above the input size: the limit then cannot depend on the read size, so the two runs must agree.
        var whole = Frame(stream, stream.Length + 1, int.MaxValue);
        var pieces = Frame(stream, stream.Length + 1, chunk);
        if (!whole.SequenceEqual(pieces))
            throw new InvariantException($"tokens differ with reads of {chunk} bytes:\n  whole: {string.Join(" | ", whole)}\n  split: {string.Join(" | ", pieces)}");
        // Under a small limit the stream must be refused, or not, whatever the reads (which error comes first may differ:
        // the limit is checked between reads, the syntax as the bytes are scanned).
        static List<string> Refusal(List<string> tokens) => tokens.Select(t => t.StartsWith("stream error", StringComparison.Ordinal) ? "stream error" : t).ToList();
        var limitedWhole = Refusal(Frame(stream, 256, int.MaxValue));
        var limitedPieces = Refusal(Frame(stream, 256, chunk));
        if (!limitedWhole.SequenceEqual(limitedPieces))
            throw new InvariantException($"under a 256-byte limit, tokens differ with reads of {chunk} bytes:\n  whole: {string.Join(" | ", limitedWhole)}\n  split: {string.Join(" | ", limitedPieces)}");
        return $"{whole.Count} tokens, last: {whole[^1]}";
    }

    /// <summary>Feeds the stream in reads of <paramref name="readSize"/> bytes; returns what each token parsed to, and how it ended.</summary>
    private static List<string> Frame(ReadOnlyMemory<byte> stream, int limit, int readSize)
    {
        var framer = new XmlStreamFramer(limit);
        var results = new List<string>();
        NamespaceScope? scope = null;
        var start = 0;      // first byte not yet consumed as a token
        var available = 0;  // bytes handed to the framer so far
        try
        {
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(stream[start..available]);
                if (framer.TryReadToken(buffer, out var kind, out var end))
                {
                    var token = buffer.Slice(0, end);
                    if (token.Length == 0) throw new InvariantException("empty token");
                    start += (int)token.Length;
                    results.Add(Parse(kind, token, ref scope));
                    continue;
                }
                if (available == stream.Length) break;
                available = Math.Min(stream.Length, available + readSize);
            }
            results.Add(available == start ? "eof" : "eof inside a token");
        }
        catch (XmppStreamException e)
        {
            results.Add("stream error " + e.Condition);
        }
        results.RemoveAll(r => r == "ignorable");
        return results;
    }

    private static string Parse(XmlTokenKind kind, ReadOnlySequence<byte> token, ref NamespaceScope? scope)
    {
        switch (kind)
        {
            case XmlTokenKind.Ignorable:
                return "ignorable";
            case XmlTokenKind.StreamEnd:
                return "end";
            case XmlTokenKind.StreamHeader:
            {
                var header = XmlParser.ParseStreamHeader(token, out scope);
                Jid.TryParse(header.Attribute("from"), out _);
                Jid.TryParse(header.Attribute("to"), out _);
                return "header " + XmlShape.Of(header);
            }
            default:
            {
                if (scope is null) throw new InvariantException("a stanza before the stream header");
                XmlElement stanza;
                try
                {
                    stanza = XmlParser.ParseStanza(token, scope);
                }
                catch (XmppStreamException e)
                {
                    // The framer passed it; the parser may still refuse it. Later tokens are not read after a stream error.
                    throw new XmppStreamException(e.Condition, "parser: " + e.Message);
                }
                CheckRoundTrip(stanza, scope);
                Touch(stanza);
                return "stanza " + XmlShape.Of(stanza);
            }
        }
    }

    /// <summary>parse → write → parse is the identity: what the server forwards is what it received.</summary>
    private static void CheckRoundTrip(XmlElement stanza, NamespaceScope scope)
    {
        var written = Encoding.UTF8.GetBytes(XmlWriter.ToXmlString(stanza, scope.DefaultNamespace));
        XmlElement again;
        try
        {
            again = XmlParser.ParseStanza(written, scope);
        }
        catch (XmppStreamException e)
        {
            throw new InvariantException($"the writer produced XML its parser refuses ({e.Message}): {Encoding.UTF8.GetString(written)}");
        }
        var (before, after) = (XmlShape.Of(stanza), XmlShape.Of(again));
        if (before != after) throw new InvariantException($"round trip changed the stanza:\n  parsed:  {before}\n  written: {Encoding.UTF8.GetString(written)}\n  again:   {after}");
    }

    /// <summary>What the gateway reads from every message: addresses and Jive properties.</summary>
    private static void Touch(XmlElement stanza)
    {
        Jid.TryParse(stanza.Attribute("from"), out _);
        Jid.TryParse(stanza.Attribute("to"), out _);
        var properties = JiveProperties.Find(stanza);
        foreach (var name in (string[])["MsgType", "ReturnCode", "MsgText", "attach", "MsgGroup", "original_image_attached"])
            JiveProperties.Get(properties, name);
        _ = stanza.Text;
    }

    public override IEnumerable<string> Dictionary() =>
    [
        "<", ">", "/>", "</", "<?xml version='1.0'?>", "?>", "<![CDATA[", "]]>", "<!--", "<!DOCTYPE", "xmlns=", "xmlns:", "xml:lang=",
        "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#x", "&#", ";", "='", "=\"", "<stream:stream ", "</stream:stream>", "jabber:client",
        "http://etherx.jabber.org/streams", "<message ", "</message>", "<iq ", "<presence", "<body>", "</body>",
        "<properties xmlns='http://www.jivesoftware.com/xmlns/xmpp/properties'>", "<property><name>", "</name><value type='string'>",
        "</value></property>", "MsgType", "ReturnCode", " id='", " to='", " from='", "@", "/", "\r\n", "\t", "中", "\uFFFE",
    ];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        const string header =
            "<?xml version='1.0' encoding='UTF-8'?><stream:stream to='20.20.20.99' xmlns='jabber:client' " +
            "xmlns:stream='http://etherx.jabber.org/streams' from='1102_Unit@10.0.0.5' version='1.0'>";
        foreach (var (name, stanza) in SpecStanzas.All)
        {
            yield return (name, [7, .. Encoding.UTF8.GetBytes(header + stanza + "</stream:stream>")]);
        }
        yield return ("whitespace-keepalive", [1, .. Encoding.UTF8.GetBytes(header + "  \n <iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>\n")]);
    }
}
