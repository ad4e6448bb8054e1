using System.Buffers;
using System.Text;

namespace Mmss.Protocol.Xml;

/// <summary>Writes elements as UTF-8 XML straight into a buffer writer (a pipe), escaping as XML 1.0 requires.</summary>
public static class XmlWriter
{
    /// <param name="inheritedNamespace">the default namespace in scope, so that it is not declared again (jabber:client on a c2s stream).</param>
    public static void Write(IBufferWriter<byte> output, XmlElement element, string inheritedNamespace)
    {
        WriteRaw(output, "<"u8);
        WriteString(output, element.Name);
        if (element.Namespace != inheritedNamespace)
        {
            WriteRaw(output, " xmlns=\""u8);
            WriteEscaped(output, element.Namespace, escapeQuotes: true);
            WriteRaw(output, "\""u8);
        }
        var attributes = element.Attributes;
        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            WriteRaw(output, " "u8);
            if (attribute.Namespace == Xmpp.Namespaces.Xml) WriteRaw(output, "xml:"u8);
            else if (attribute.Namespace.Length > 0)
            {
                // XML Namespaces §6.2: an attribute keeps its namespace only through a prefix; one is declared beside it.
                var prefix = "ns" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                WriteRaw(output, "xmlns:"u8);
                WriteString(output, prefix);
                WriteRaw(output, "=\""u8);
                WriteEscaped(output, attribute.Namespace, escapeQuotes: true);
                WriteRaw(output, "\" "u8);
                WriteString(output, prefix);
                WriteRaw(output, ":"u8);
            }
            WriteString(output, attribute.Name);
            WriteRaw(output, "=\""u8);
            WriteEscaped(output, attribute.Value, escapeQuotes: true);
            WriteRaw(output, "\""u8);
        }
        if (!element.HasChildren)
        {
            WriteRaw(output, "/>"u8);
            return;
        }
        WriteRaw(output, ">"u8);
        foreach (var node in element.Nodes)
        {
            if (node is XmlElement child) Write(output, child, element.Namespace);
            else WriteEscaped(output, (string)node, escapeQuotes: false);
        }
        WriteRaw(output, "</"u8);
        WriteString(output, element.Name);
        WriteRaw(output, ">"u8);
    }

    public static string ToXmlString(XmlElement element, string inheritedNamespace = "")
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, element, inheritedNamespace);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return;
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    public static void WriteEscaped(IBufferWriter<byte> output, ReadOnlySpan<char> text, bool escapeQuotes)
    {
        ReadOnlySpan<char> special = escapeQuotes ? "<>&\"'\r\n\t" : "<>&\r";
        while (!text.IsEmpty)
        {
            var i = text.IndexOfAny(special);
            if (i < 0)
            {
                WriteString(output, text);
                return;
            }
            WriteString(output, text[..i]);
            WriteRaw(output, text[i] switch
            {
                '<' => "&lt;"u8,
                '>' => "&gt;"u8,
                '&' => "&amp;"u8,
                '"' => "&quot;"u8,
                '\'' => "&apos;"u8,
                '\r' => "&#13;"u8,
                '\n' => "&#10;"u8,
                _ => "&#9;"u8,
            });
            text = text[(i + 1)..];
        }
    }
}
