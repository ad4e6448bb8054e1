using System.Text;

namespace Mmss.Protocol.Xml;

/// <summary>
/// A small, mutable XML element: what a stanza parses into and what the server builds to send.
/// Children are elements or text strings, in document order.
/// </summary>
public sealed class XmlElement
{
    private List<XmlAttribute>? _attributes;
    private List<object>? _children;

    public XmlElement(string name, string ns)
    {
        Name = name;
        Namespace = ns;
    }

    /// <summary>Local name.</summary>
    public string Name { get; }

    public string Namespace { get; }

    public IReadOnlyList<XmlAttribute> Attributes => (IReadOnlyList<XmlAttribute>?)_attributes ?? [];

    /// <summary>Elements and strings, in document order.</summary>
    public IReadOnlyList<object> Nodes => (IReadOnlyList<object>?)_children ?? [];

    /// <summary>The child elements, in document order; enumerated without allocating.</summary>
    public ChildElements Elements => new(_children);

    public bool HasChildren => _children is { Count: > 0 };

    /// <summary>The concatenated character data directly inside this element.</summary>
    public string Text
    {
        get
        {
            if (_children is null) return string.Empty;
            string? single = null;
            StringBuilder? sb = null;
            foreach (var node in _children)
            {
                if (node is not string s) continue;
                if (single is null) { single = s; continue; }
                sb ??= new StringBuilder(single);
                sb.Append(s);
            }
            return sb?.ToString() ?? single ?? string.Empty;
        }
    }

    public string? Attribute(string name)
    {
        if (_attributes is null) return null;
        foreach (var a in _attributes)
        {
            if (a.Namespace.Length == 0 && a.Name == name) return a.Value;
        }
        return null;
    }

    public string? Attribute(string name, string ns)
    {
        if (_attributes is null) return null;
        foreach (var a in _attributes)
        {
            if (a.Name == name && a.Namespace == ns) return a.Value;
        }
        return null;
    }

    public XmlElement SetAttribute(string name, string? value)
    {
        _attributes ??= new List<XmlAttribute>(4);
        for (var i = 0; i < _attributes.Count; i++)
        {
            if (_attributes[i].Namespace.Length != 0 || _attributes[i].Name != name) continue;
            if (value is null) _attributes.RemoveAt(i);
            else _attributes[i] = new XmlAttribute(name, value);
            return this;
        }
        if (value is not null) _attributes.Add(new XmlAttribute(name, value));
        return this;
    }

    /// <summary>Sizes the attribute list for what the parser is about to add: most elements have one or two.</summary>
    internal void ReserveParsedAttributes(int count) => _attributes ??= new List<XmlAttribute>(count);

    internal void AddParsedAttribute(XmlAttribute attribute)
    {
        _attributes ??= new List<XmlAttribute>(4);
        _attributes.Add(attribute);
    }

    public XmlElement? Element(string name, string ns)
    {
        if (_children is null) return null;
        foreach (var node in _children)
        {
            if (node is XmlElement e && e.Name == name && e.Namespace == ns) return e;
        }
        return null;
    }

    /// <summary>The first child element, whatever its name.</summary>
    public XmlElement? FirstElement()
    {
        if (_children is null) return null;
        foreach (var node in _children)
        {
            if (node is XmlElement e) return e;
        }
        return null;
    }

    public XmlElement Add(XmlElement child)
    {
        (_children ??= new List<object>(2)).Add(child);
        return this;
    }

    public XmlElement AddText(string text)
    {
        if (text.Length > 0) (_children ??= new List<object>(1)).Add(text);
        return this;
    }

    /// <summary>Adds a child element in this element's namespace and returns the child.</summary>
    public XmlElement AddElement(string name, string? ns = null, string? text = null)
    {
        var child = new XmlElement(name, ns ?? Namespace);
        if (text is not null) child.AddText(text);
        Add(child);
        return child;
    }

    public override string ToString() => XmlWriter.ToXmlString(this);
}
