using System.Buffers;
using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

/// <summary>
/// Inputs the fuzzers (tests/fuzz) and the property tests found to break a promise of the protocol code, each kept
/// as a test before its fix (RELIABILITY.md lists them).
/// </summary>
public class Fuzz_Findings_Tests
{
    private static readonly NamespaceScope ClientScope = new(Namespaces.Client, ("stream", Namespaces.Streams));

    private static XmlElement Parse(string xml) => XmlParser.ParseStanza(Encoding.UTF8.GetBytes(xml), ClientScope);

    private static XmlElement WriteAndParse(XmlElement element) => Parse(XmlWriter.ToXmlString(element, Namespaces.Client));

    [Fact]
    public void Attributes_in_a_namespace_keep_it_when_the_stanza_is_written_again()
    {
        // Found by the xml-stream target: the writer dropped the prefix, so x:a and a collided into a duplicate
        // attribute and the forwarded stanza was not well-formed for its recipient.
        var parsed = Parse("<message xmlns:x='urn:x' x:a='1' a='2'><x:c x:d='3'/></message>");

        var again = WriteAndParse(parsed);

        Assert.Equal("1", again.Attribute("a", "urn:x"));
        Assert.Equal("2", again.Attribute("a"));
        Assert.Equal("3", again.FirstElement()!.Attribute("d", "urn:x"));
        Assert.Null(again.FirstElement()!.Attribute("d"));
    }

    [Theory]
    [InlineData("<message xmlns:x='urn:x'><x:/></message>")]
    [InlineData("<message xmlns:x='urn:x'><x:a:b/></message>")]
    [InlineData("<message xmlns:x='urn:x' x:='1'/>")]
    [InlineData("<message xmlns:x='urn:x' x:a:b='1'/>")]
    [InlineData("<message xmlns:x='urn:x'><x:9/></message>")]
    [InlineData("<message xmlns:x='urn:x' x:-a='1'/>")]
    [InlineData("<message xmlns:x='urn:x'><x:!!c/></message>")]
    [InlineData("<message xmlns:x='urn:x'><x:?c/></message>")]
    public void Qualified_names_whose_local_part_is_not_a_name_are_not_well_formed(string xml)
    {
        // Found by the xml-stream target: <x:/> parsed into an element without a name, written back as "< xmlns=...";
        // then <x:9/>, written back as <9/>, which the parser itself refuses; then <x:!!c/>, written back as a "comment".
        // Namespaces in XML §3: QName = Prefix ':' LocalPart, and neither part holds a colon.
        var e = Assert.Throws<XmppStreamException>(() => Parse(xml));
        Assert.Equal(StreamErrorCondition.NotWellFormed, e.Condition);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(7, false)]
    [InlineData(1000, false)]
    [InlineData(7, true)]
    [InlineData(1000, true)]
    public void A_stanza_or_declaration_over_the_limit_is_refused_whatever_the_reads(int readSize, bool declaration)
    {
        // Found while writing the xml-stream target's split invariant: a stanza over the limit passed when it arrived
        // in one read and was refused when it trickled in, so TCP segmentation decided.
        var stream = Encoding.UTF8.GetBytes(declaration
            ? "<?xml version='1.0' x='" + new string('x', 300) + "'?>"
            : "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>" + new string('x', 300) + "</body></message>");
        var framer = new XmlStreamFramer(128);
        var (start, available) = (0, 0);
        var e = Assert.Throws<XmppStreamException>(() =>
        {
            while (available < stream.Length)
            {
                available = Math.Min(stream.Length, available + readSize);
                while (framer.TryReadToken(new ReadOnlySequence<byte>(stream, start, available - start), out _, out var end))
                    start += (int)new ReadOnlySequence<byte>(stream, start, available - start).Slice(0, end).Length;
            }
        });
        Assert.Equal(StreamErrorCondition.PolicyViolation, e.Condition);
    }

    [Fact]
    public void Whitespace_between_stanzas_never_counts_against_the_limit()
    {
        var stream = Encoding.UTF8.GetBytes("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" + new string(' ', 1000) + "<a/>");
        var framer = new XmlStreamFramer(128);
        var kinds = new List<XmlTokenKind>();
        var start = 0;
        while (framer.TryReadToken(new ReadOnlySequence<byte>(stream, start, stream.Length - start), out var kind, out var end))
        {
            kinds.Add(kind);
            start += (int)new ReadOnlySequence<byte>(stream, start, stream.Length - start).Slice(0, end).Length;
        }
        Assert.Equal([XmlTokenKind.StreamHeader, XmlTokenKind.Ignorable, XmlTokenKind.Stanza], kinds);
    }
}
