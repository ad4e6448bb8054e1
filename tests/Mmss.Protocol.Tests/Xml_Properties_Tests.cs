using System.Buffers;
using System.Text;
using CsCheck;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

/// <summary>
/// Properties of the XML layer over random stanzas (CsCheck; a failure prints the smallest stanza it found).
/// The generators stay inside what the parser accepts: names as XML allows them, text of characters XML can carry,
/// written in every style a sender may use (quotes, entity and character references, CDATA, prefixes).
/// </summary>
public class Xml_Properties_Tests
{
    private static readonly NamespaceScope ClientScope = new(Namespaces.Client, ("stream", Namespaces.Streams));

    private static readonly Gen<string> Name =
        Gen.Select(Gen.Char["abcxyzMN_é中"], Gen.String[Gen.Char["abz09_.-é中"], 0, 6], (first, rest) => first + rest);

    private static readonly Gen<string> Namespace =
        Gen.OneOf(Namespaces.Client, Namespaces.JiveProperties, Namespaces.Ping, "", "urn:x", "urn:a&b'\"<>");

    /// <summary>Text from pieces that need escaping, surrogate pairs and the characters the writer writes as references.</summary>
    private static readonly Gen<string> Text =
        Gen.OneOf("a", "Z", " ", "<", ">", "&", "\"", "'", "\r", "\n", "\t", "]]>", "中", "😀", "&amp;", "é", "=", "/")
            .Array[0, 8].Select(parts => string.Concat(parts));

    /// <summary>A stanza as its sender might write it; rendered to XML text by <see cref="Render(Node, string)"/>.</summary>
    public sealed record Node(string Name, string Ns, (string Name, string Value, string Ns)[] Attributes, object[] Children, int Style);

    private static readonly Gen<(string Name, string Value, string Ns)> Attribute =
        Gen.Select(Name, Text, Gen.OneOf("", "", Namespaces.Xml, "urn:x", "urn:y"));

    private static readonly Gen<Node> Stanza = Gen.Recursive<Node>((depth, self) =>
        Gen.Select(Name, Namespace, Attribute.Array[0, 4],
            depth < 4
                ? Gen.Frequency((3, Text.Select(t => (object)t)), (2, self.Select(e => (object)e))).Array[0, 4]
                : Text.Select(t => (object)t).Array[0, 1],
            Gen.Int[0, 5],
            // One attribute per (namespace, name), as XML Namespaces §6.3 requires.
            (name, ns, attributes, children, style) => new Node(name, ns, attributes.DistinctBy(a => (a.Ns, a.Name)).ToArray(), children, style)));

    private static string Render(Node node, string inherited = Namespaces.Client)
    {
        var sb = new StringBuilder();
        Render(sb, node, inherited);
        return sb.ToString();
    }

    /// <summary>Style: even/odd quotes; mod 3 the kind of reference; 3+ never self-closing; 4 CDATA text; 5 a prefixed element name.</summary>
    private static void Render(StringBuilder sb, Node node, string inherited)
    {
        var quote = node.Style % 2 == 0 ? '"' : '\'';
        var prefixed = node.Style == 5 && node.Ns.Length > 0;
        var qname = prefixed ? "e:" + node.Name : node.Name;
        void Attr(string name, string value) => sb.Append(' ').Append(name).Append('=').Append(quote).Append(Escape(value, node.Style, quote)).Append(quote);
        sb.Append('<').Append(qname);
        if (prefixed) Attr("xmlns:e", node.Ns);
        else if (node.Ns != inherited) Attr("xmlns", node.Ns);
        for (var i = 0; i < node.Attributes.Length; i++)
        {
            var (name, value, ns) = node.Attributes[i];
            if (ns == Namespaces.Xml) Attr("xml:" + name, value);
            else if (ns.Length > 0)
            {
                Attr($"xmlns:a{i}", ns);
                Attr($"a{i}:{name}", value);
            }
            else Attr(name, value);
        }
        if (node.Children.Length == 0 && node.Style < 3)
        {
            sb.Append("/>");
            return;
        }
        sb.Append('>');
        var childInherited = prefixed ? inherited : node.Ns;
        foreach (var child in node.Children)
        {
            if (child is Node element) Render(sb, element, childInherited);
            else if (node.Style == 4 && child is string { Length: > 0 } cdata && !cdata.Contains("]]>")) sb.Append("<![CDATA[").Append(cdata).Append("]]>");
            else sb.Append(Escape((string)child, node.Style, quote: null));
        }
        sb.Append("</").Append(qname).Append('>');
    }

    /// <summary>Escapes text (quote null) or an attribute value; in a value, tab, CR and LF must be references, or they read as spaces.</summary>
    private static string Escape(string value, int style, char? quote)
    {
        var sb = new StringBuilder();
        foreach (var c in value)
        {
            var mustEscape = c is '<' or '&' or '>' || c == quote || (quote is not null && c is '\t' or '\r' or '\n');
            if (!mustEscape) sb.Append(c);
            else if (style % 3 == 0) sb.Append("&#").Append((int)c).Append(';');
            else if (style % 3 == 1) sb.Append("&#x").Append(((int)c).ToString("X")).Append(';');
            else sb.Append(c switch { '<' => "&lt;", '>' => "&gt;", '&' => "&amp;", '"' => "&quot;", '\'' => "&apos;", _ => $"&#{(int)c};" });
        }
        return sb.ToString();
    }

    /// <summary>The <see cref="XmlShape"/> of the element the node must parse into.</summary>
    private static string ShapeOf(Node node)
    {
        var sb = new StringBuilder();
        sb.Append("<{").Append(node.Ns).Append('}').Append(node.Name);
        foreach (var (name, value, ns) in node.Attributes) sb.Append(" {").Append(ns).Append('}').Append(name).Append("=[").Append(value).Append(']');
        sb.Append('>');
        var text = new StringBuilder();
        foreach (var child in node.Children)
        {
            if (child is string s)
            {
                text.Append(s);
                continue;
            }
            if (text.Length > 0) sb.Append("text[").Append(text).Append(']');
            text.Clear();
            sb.Append(ShapeOf((Node)child));
        }
        if (text.Length > 0) sb.Append("text[").Append(text).Append(']');
        return sb.Append("</>").ToString();
    }

    private static byte[] Write(XmlElement element) => Encoding.UTF8.GetBytes(XmlWriter.ToXmlString(element, Namespaces.Client));

    private static XmlElement Parse(byte[] xml) => XmlParser.ParseStanza(xml, ClientScope);

    private static XmlElement Parse(string xml) => Parse(Encoding.UTF8.GetBytes(xml));

    [Fact]
    public void Parsing_a_stanza_gives_the_names_namespaces_attributes_and_text_it_was_written_with()
    {
        Stanza.Sample(node => Assert.Equal(ShapeOf(node), XmlShape.Of(Parse(Render(node)))), iter: 2000, print: n => Render(n));
    }

    [Fact]
    public void Stanza_parse_then_write_then_parse_is_the_identity()
    {
        // What a terminal sent, parsed once, is forwarded as XmlWriter writes it: the recipient must read the same
        // stanza, and writing it again changes nothing.
        Stanza.Sample(node =>
        {
            var parsed = Parse(Render(node));
            var written = Write(parsed);
            var again = Parse(written);
            Assert.Equal(XmlShape.Of(parsed), XmlShape.Of(again));
            Assert.Equal(written, Write(again));
        }, iter: 2000, print: n => Render(n));
    }

    private const string Header =
        "<?xml version='1.0'?><stream:stream to='20.20.20.99' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    /// <summary>A stream: the header, stanzas with whitespace keepalives between them, the end.</summary>
    private static readonly Gen<byte[]> Stream =
        Gen.Select(Stanza.Array[0, 4], Gen.OneOf("", " ", "\n", " \r\n\t ").Array[5], (stanzas, gaps) =>
        {
            var sb = new StringBuilder(Header);
            for (var i = 0; i < stanzas.Length; i++) sb.Append(gaps[i]).Append(Render(stanzas[i]));
            return Encoding.UTF8.GetBytes(sb.Append(gaps[^1]).Append("</stream:stream>").ToString());
        });

    /// <summary>The tokens a framer reads when the bytes arrive cut at <paramref name="cuts"/>; whitespace runs are left out, as their cuts follow the reads.</summary>
    private static List<string> Tokens(byte[] stream, IEnumerable<int> cuts)
    {
        var framer = new XmlStreamFramer(64 * 1024);
        var tokens = new List<string>();
        NamespaceScope? scope = null;
        var (start, available) = (0, 0);
        foreach (var cut in cuts.Append(stream.Length))
        {
            available = Math.Max(available, cut);
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(stream, start, available - start);
                if (!framer.TryReadToken(buffer, out var kind, out var end)) break;
                var token = buffer.Slice(0, end);
                start += (int)token.Length;
                switch (kind)
                {
                    case XmlTokenKind.StreamHeader:
                        tokens.Add("header " + XmlShape.Of(XmlParser.ParseStreamHeader(token, out scope)));
                        break;
                    case XmlTokenKind.Stanza:
                        tokens.Add(XmlShape.Of(XmlParser.ParseStanza(token, scope!)));
                        break;
                    case XmlTokenKind.StreamEnd:
                        tokens.Add("end");
                        break;
                }
            }
        }
        Assert.Equal(stream.Length, start);
        return tokens;
    }

    [Fact]
    public void Framing_gives_the_same_tokens_at_every_split_point()
    {
        Stream.Sample(stream =>
        {
            var whole = Tokens(stream, []);
            Assert.Equal(Stream_token_count(stream), whole.Count);
            for (var split = 1; split < stream.Length; split++) Assert.Equal(whole, Tokens(stream, [split]));
        }, iter: 100, print: Encoding.UTF8.GetString);
    }

    [Fact]
    public void Framing_gives_the_same_tokens_whatever_the_reads()
    {
        Gen.Select(Stream, Gen.Int[1, 64].Array[1, 40]).Sample((stream, reads) =>
        {
            var cuts = new List<int>();
            var at = 0;
            foreach (var read in reads) cuts.Add(at = Math.Min(stream.Length, at + read));
            Assert.Equal(Tokens(stream, []), Tokens(stream, cuts));
        }, iter: 1000, print: t => Encoding.UTF8.GetString(t.Item1) + " read as " + string.Join(",", t.Item2));
    }

    /// <summary>Header, one token per stanza, end: what the generator put in.</summary>
    private static int Stream_token_count(byte[] stream)
    {
        var text = Encoding.UTF8.GetString(stream);
        var body = text[Header.Length..^"</stream:stream>".Length];
        var element = Parse("<x>" + body + "</x>");
        return 2 + element.Elements.Count();
    }
}
