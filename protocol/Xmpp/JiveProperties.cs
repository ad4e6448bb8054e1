using Mmss.Protocol.Xml;

namespace Mmss.Protocol.Xmpp;

/// <summary>Smack's JivePropertiesExtension as the spec uses it (spec 7.5, 8): &lt;properties&gt; of name/value pairs.</summary>
public static class JiveProperties
{
    public static XmlElement? Find(XmlElement message) => message.Element("properties", Namespaces.JiveProperties);

    /// <summary>The value of the named property, or null when absent.</summary>
    public static string? Get(XmlElement? properties, string name)
    {
        if (properties is null) return null;
        foreach (var property in properties.Elements)
        {
            if (property.Name != "property") continue;
            if (property.Element("name", Namespaces.JiveProperties)?.Text == name)
                return property.Element("value", Namespaces.JiveProperties)?.Text;
        }
        return null;
    }

    /// <summary>Whether the named property has this value (ignoring case), compared in place: no string is built.</summary>
    public static bool Is(XmlElement? properties, string name, string value) =>
        string.Equals(Get(properties, name), value, StringComparison.OrdinalIgnoreCase);

    public static XmlElement Build(IEnumerable<KeyValuePair<string, string>> values)
    {
        var properties = new XmlElement("properties", Namespaces.JiveProperties);
        foreach (var (name, value) in values)
        {
            var property = properties.AddElement("property");
            property.AddElement("name", text: name);
            property.AddElement("value", text: value).SetAttribute("type", "string");
        }
        return properties;
    }
}
