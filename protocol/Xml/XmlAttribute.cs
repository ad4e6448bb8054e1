namespace Mmss.Protocol.Xml;

/// <summary>An attribute; <see cref="Namespace"/> is empty for unprefixed attributes (XML Namespaces §6.2).</summary>
public readonly record struct XmlAttribute(string Name, string Value, string Namespace = "");
