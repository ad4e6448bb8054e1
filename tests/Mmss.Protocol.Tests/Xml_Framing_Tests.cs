using System.Buffers;
using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

public class Xml_Framing_Tests
{
    private const string SampleStream =
        "<?xml version='1.0' encoding='UTF-8'?>" +
        "<stream:stream to='20.20.20.99' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='1102_Unit@10.0.0.5' version='1.0'>" +
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>  \n" +
        "<message id=\"1407488357552\" to=\"c2@20.20.20.99\"><subject>HELLO &amp; 你好</subject>" +
        "<properties xmlns=\"http://www.jivesoftware.com/xmlns/xmpp/properties\">" +
        "<property><name>MsgType</name><value type=\"string\">1</value></property>" +
        "<property><name>MsgText</name><value type=\"string\">a &lt;b&gt; &#x4E2D;&#25991; 'q' \"dq\"</value></property>" +
        "</properties><body><![CDATA[<thumb>]]>AAAA==</body></message>" +
        " <iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>" +
        "</stream:stream>";

    private static List<string> Frame(IEnumerable<byte[]> chunks, int limit = 64 * 1024)
    {
        var framer = new XmlStreamFramer(limit);
        var tokens = new List<string>();
        var pending = new List<byte>();
        NamespaceScope? scope = null;
        foreach (var chunk in chunks)
        {
            pending.AddRange(chunk);
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(pending.ToArray());
                if (!framer.TryReadToken(buffer, out var kind, out var end)) break;
                var token = buffer.Slice(0, end);
                switch (kind)
                {
                    case XmlTokenKind.StreamHeader:
                        var header = XmlParser.ParseStreamHeader(token, out scope);
                        tokens.Add($"header {header.Name} {header.Namespace} from={header.Attribute("from")} default={scope.DefaultNamespace}");
                        break;
                    case XmlTokenKind.Stanza:
                        tokens.Add(XmlWriter.ToXmlString(XmlParser.ParseStanza(token, scope!), scope!.DefaultNamespace));
                        break;
                    case XmlTokenKind.StreamEnd:
                        tokens.Add("end");
                        break;
                }
                pending.RemoveRange(0, (int)token.Length);
            }
        }
        return tokens;
    }

    [Fact]
    public void Whole_stream_yields_header_stanzas_and_end()
    {
        var tokens = Frame([Encoding.UTF8.GetBytes(SampleStream)]);
        Assert.Equal(5, tokens.Count);
        Assert.Equal("header stream http://etherx.jabber.org/streams from=1102_Unit@10.0.0.5 default=jabber:client", tokens[0]);
        Assert.Equal("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"DIGEST-MD5\"/>", tokens[1]);
        Assert.Contains("<subject>HELLO &amp; 你好</subject>", tokens[2]);
        Assert.Contains("a &lt;b&gt; 中文 'q' \"dq\"", tokens[2]);
        Assert.Contains("<body>&lt;thumb&gt;AAAA==</body>", tokens[2]);
        Assert.Equal("<iq type=\"get\" id=\"p1\"><ping xmlns=\"urn:xmpp:ping\"/></iq>", tokens[3]);
        Assert.Equal("end", tokens[4]);
    }

    [Fact]
    public void Every_split_point_of_the_sample_gives_the_same_tokens()
    {
        var bytes = Encoding.UTF8.GetBytes(SampleStream);
        var expected = Frame([bytes]);
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(expected, Frame([bytes[..split], bytes[split..]]));
        }
    }

    [Fact]
    public void Byte_by_byte_delivery_gives_the_same_tokens()
    {
        var bytes = Encoding.UTF8.GetBytes(SampleStream);
        Assert.Equal(Frame([bytes]), Frame(bytes.Select(b => new[] { b })));
    }

    [Theory]
    [InlineData("<message><body>x</message>", StreamErrorCondition.NotWellFormed)]
    [InlineData("<message><body>x</bodyx></message>", StreamErrorCondition.NotWellFormed)]
    [InlineData("<message a='1' a='2'/>", StreamErrorCondition.NotWellFormed)]
    [InlineData("<message a=1/>", StreamErrorCondition.NotWellFormed)]
    [InlineData("<message><body>&bogus;</body></message>", StreamErrorCondition.RestrictedXml)]
    [InlineData("<message><!-- hi --></message>", StreamErrorCondition.RestrictedXml)]
    [InlineData("<?php evil ?>", StreamErrorCondition.RestrictedXml)]
    [InlineData("<!DOCTYPE x [<!ENTITY a 'b'>]>", StreamErrorCondition.RestrictedXml)]
    [InlineData("<x:message/>", StreamErrorCondition.NotWellFormed)]
    [InlineData("hello", StreamErrorCondition.NotWellFormed)]
    [InlineData("<message><body>\u0001</body></message>", StreamErrorCondition.NotWellFormed)]
    [InlineData("<message><body>&#0;</body></message>", StreamErrorCondition.NotWellFormed)]
    public void Bad_input_after_the_header_raises_the_right_stream_error(string stanza, StreamErrorCondition condition)
    {
        var stream = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" + stanza + "</stream:stream>";
        var error = Assert.Throws<XmppStreamException>(() => Frame([Encoding.UTF8.GetBytes(stream)]));
        Assert.Equal(condition, error.Condition);
    }

    [Fact]
    public void Invalid_utf8_is_not_well_formed()
    {
        var head = Encoding.UTF8.GetBytes("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>");
        var tail = Encoding.UTF8.GetBytes("</body></message>");
        var error = Assert.Throws<XmppStreamException>(() => Frame([[.. head, 0xC3, 0x28, .. tail]]));
        Assert.Equal(StreamErrorCondition.NotWellFormed, error.Condition);
    }

    [Fact]
    public void Stanza_over_the_limit_is_refused_before_it_is_complete()
    {
        var framer = new XmlStreamFramer(1024);
        var header = Encoding.UTF8.GetBytes("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
        Assert.True(framer.TryReadToken(new ReadOnlySequence<byte>(header), out _, out _));
        var open = Encoding.UTF8.GetBytes("<message><body>" + new string('a', 2000));
        var error = Assert.Throws<XmppStreamException>(() => framer.TryReadToken(new ReadOnlySequence<byte>(open), out _, out _));
        Assert.Equal(StreamErrorCondition.PolicyViolation, error.Condition);
    }

    [Fact]
    public void Whitespace_keepalives_are_consumed_without_counting_against_the_limit()
    {
        var framer = new XmlStreamFramer(120);
        var header = Encoding.UTF8.GetBytes("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
        Assert.True(framer.TryReadToken(new ReadOnlySequence<byte>(header), out var kind, out _));
        Assert.Equal(XmlTokenKind.StreamHeader, kind);
        var spaces = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(new string(' ', 1000)));
        Assert.True(framer.TryReadToken(spaces, out kind, out var end));
        Assert.Equal(XmlTokenKind.Ignorable, kind);
        Assert.Equal(1000, spaces.Slice(0, end).Length);
        var ping = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"));
        Assert.True(framer.TryReadToken(ping, out kind, out _));
        Assert.Equal(XmlTokenKind.Stanza, kind);
    }

    [Fact]
    public void Written_elements_parse_back_to_the_same_text()
    {
        var message = new XmlElement("message", "jabber:client").SetAttribute("id", "a\"<&>'").SetAttribute("to", "1102@h");
        message.AddElement("body", text: "tab\there <tag> & 中文");
        var props = message.AddElement("properties", "http://www.jivesoftware.com/xmlns/xmpp/properties");
        props.AddElement("property").AddElement("name", text: "MsgType");
        var xml = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" +
                  XmlWriter.ToXmlString(message, "jabber:client");
        var tokens = Frame([Encoding.UTF8.GetBytes(xml)]);
        var parsed = XmlParser.ParseStanza(Encoding.UTF8.GetBytes(XmlWriter.ToXmlString(message, "jabber:client")),
            new NamespaceScope("jabber:client"));
        Assert.Equal("a\"<&>'", parsed.Attribute("id"));
        Assert.Equal("tab\there <tag> & 中文", parsed.Element("body", "jabber:client")!.Text);
        Assert.Equal(message.ToString(), parsed.ToString());
        Assert.Equal(2, tokens.Count);
    }

    [Theory]
    [InlineData("<message><body>x</message>")]
    [InlineData("<message><body>x</bodyx>")]
    public void Mismatched_end_tag_is_refused_at_once_not_after_more_input(string unfinished)
    {
        var framer = new XmlStreamFramer(64 * 1024);
        var header = Encoding.UTF8.GetBytes("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
        Assert.True(framer.TryReadToken(new ReadOnlySequence<byte>(header), out _, out _));
        var error = Assert.Throws<XmppStreamException>(() => framer.TryReadToken(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(unfinished)), out _, out _));
        Assert.Equal(StreamErrorCondition.NotWellFormed, error.Condition);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_a_policy_violation()
    {
        var framer = new XmlStreamFramer(64 * 1024);
        var header = Encoding.UTF8.GetBytes("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
        Assert.True(framer.TryReadToken(new ReadOnlySequence<byte>(header), out _, out _));
        var deep = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<a>", XmlStreamFramer.MaxDepth + 1))));
        var error = Assert.Throws<XmppStreamException>(() => framer.TryReadToken(deep, out _, out _));
        Assert.Equal(StreamErrorCondition.PolicyViolation, error.Condition);
    }

    [Fact]
    public void Element_with_too_many_attributes_is_a_policy_violation()
    {
        var attributes = string.Concat(Enumerable.Range(0, XmlParser.MaxAttributes + 1).Select(i => $" a{i}='x'"));
        var error = Assert.Throws<XmppStreamException>(() =>
            XmlParser.ParseStanza(Encoding.UTF8.GetBytes($"<message{attributes}/>"), new NamespaceScope("jabber:client")));
        Assert.Equal(StreamErrorCondition.PolicyViolation, error.Condition);
    }
}
