using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// Addresses and Jive properties (spec 7.5, 8). First byte: 0 = a JID, which must print back to itself;
/// 1 = NUL-separated name/value pairs, which built, written and parsed back must read the same;
/// 2 = a raw &lt;message/&gt;, whose properties are read as the gateway reads them.
/// </summary>
public sealed class JidJiveTarget : FuzzTarget
{
    private static readonly NamespaceScope ClientScope = new(Namespaces.Client, ("stream", Namespaces.Streams));

    public override string Name => "jid-jive";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Protocol.dll"];

    public override string Run(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var text = Encoding.UTF8.GetString(input.AsSpan(1));
        return (input[0] % 3) switch
        {
            0 => CheckJid(text),
            1 => CheckProperties(text),
            _ => ReadMessage(input.AsSpan(1)),
        };
    }

    private static string CheckJid(string text)
    {
        if (!Jid.TryParse(text, out var jid)) return "jid: refused";
        var printed = jid.ToString();
        if (!Jid.TryParse(printed, out var again) || again != jid) throw new InvariantException($"JID '{text}' printed as '{printed}' reads back as {again}");
        if (!Jid.TryParse(jid.Bare, out var bare) || bare.Resource is not null || bare.Local != jid.Local || bare.Domain != jid.Domain)
            throw new InvariantException($"bare JID of '{text}' reads back as {bare}");
        return $"jid: {jid}";
    }

    private static string CheckProperties(string text)
    {
        // Only characters XML can carry (and NUL, the separator): the server builds properties from parsed stanzas, which hold no others.
        var legal = new string(text.Where(c => c is '\0' or '\t' or '\n' or '\r' || (c >= ' ' && c < '\uFFFE' && !char.IsSurrogate(c))).ToArray());
        var parts = legal.Split('\0');
        var pairs = new List<KeyValuePair<string, string>>();
        for (var i = 0; i + 1 < parts.Length; i += 2) pairs.Add(new(parts[i], parts[i + 1]));
        var message = new XmlElement("message", Namespaces.Client).SetAttribute("id", "1");
        message.Add(JiveProperties.Build(pairs));
        var written = Encoding.UTF8.GetBytes(XmlWriter.ToXmlString(message, Namespaces.Client));
        XmlElement parsed;
        try
        {
            parsed = XmlParser.ParseStanza(written, ClientScope);
        }
        catch (XmppStreamException e)
        {
            throw new InvariantException($"built properties do not parse ({e.Message}): {Encoding.UTF8.GetString(written)}");
        }
        var properties = JiveProperties.Find(parsed);
        foreach (var (name, value) in pairs)
        {
            var expected = pairs.First(p => p.Key == name).Value;
            var read = JiveProperties.Get(properties, name);
            // An empty <name/> or <value/> has no text node; both read as "".
            if ((read ?? "") != expected) throw new InvariantException($"property '{name}' = '{expected}' reads back as '{read}'");
        }
        return $"properties: {pairs.Count}";
    }

    private static string ReadMessage(ReadOnlySpan<byte> bytes)
    {
        XmlElement message;
        try
        {
            message = XmlParser.ParseStanza(bytes, ClientScope);
        }
        catch (XmppStreamException e)
        {
            return "message: " + e.Condition;
        }
        var properties = JiveProperties.Find(message);
        if (properties is null) return "message: no properties";
        foreach (var property in properties.Elements)
        {
            var name = property.Element("name", Namespaces.JiveProperties)?.Text;
            if (name is not null) JiveProperties.Get(properties, name);
        }
        Jid.TryParse(message.Attribute("from"), out _);
        Jid.TryParse(message.Attribute("to"), out _);
        return $"message: MsgType {JiveProperties.Get(properties, "MsgType")}";
    }

    public override IEnumerable<string> Dictionary() =>
    [
        "@", "/", "\0", "MsgType", "MsgText", "attach", "MsgGroup", "ReturnCode", "<message>", "</message>",
        "<properties xmlns='http://www.jivesoftware.com/xmlns/xmpp/properties'>", "</properties>", "<property>", "</property>",
        "<name>", "</name>", "<value type='string'>", "</value>", "<name/>", "&amp;", "&#x", "<![CDATA[", "]]>",
    ];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        string[] jids = ["1102@20.20.20.99", "1102_Unit@10.0.0.5", "c1@ServerIP/Smack", "20.20.20.99", "ACK", "a@b/c/d@e", "用户@例子.cn/资源"];
        for (var i = 0; i < jids.Length; i++) yield return ($"jid-{i}", [0, .. Encoding.UTF8.GetBytes(jids[i])]);
        yield return ("properties-mms", [1, .. Encoding.UTF8.GetBytes("MsgType\u00001\u0000MsgText\u0000Hello, greeting from console C.\u0000attach\u0000AA.jpg,B B.png\u0000MsgGroup\u0000G\u0000original_image_attached\u0000false")]);
        yield return ("properties-escapes", [1, .. Encoding.UTF8.GetBytes("a<b\u0000&amp; \"q\" 'a'\r\n\t\u0000\u0000empty name")]);
        foreach (var (name, stanza) in SpecStanzas.All) yield return ($"message-{name}", [2, .. Encoding.UTF8.GetBytes(stanza)]);
    }
}
