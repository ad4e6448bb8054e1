using System.Text;
using Mmss.Protocol.Xml;

namespace Mmss.Protocol.Tests;

/// <summary>
/// A canonical text of an element: names with their namespaces, attributes with theirs, adjacent text merged.
/// Two elements are the same stanza when their shapes are equal. The fuzz targets (tests/fuzz) compile this file too.
/// </summary>
public static class XmlShape
{
    public static string Of(XmlElement element)
    {
        var sb = new StringBuilder();
        Append(sb, element);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, XmlElement element)
    {
        sb.Append("<{").Append(element.Namespace).Append('}').Append(element.Name);
        foreach (var a in element.Attributes) sb.Append(" {").Append(a.Namespace).Append('}').Append(a.Name).Append("=[").Append(a.Value).Append(']');
        sb.Append('>');
        var text = new StringBuilder();
        foreach (var node in element.Nodes)
        {
            if (node is string s) { text.Append(s); continue; }
            Flush(sb, text);
            Append(sb, (XmlElement)node);
        }
        Flush(sb, text);
        sb.Append("</>");
    }

    private static void Flush(StringBuilder sb, StringBuilder text)
    {
        if (text.Length == 0) return;
        sb.Append("text[").Append(text).Append(']');
        text.Clear();
    }
}
