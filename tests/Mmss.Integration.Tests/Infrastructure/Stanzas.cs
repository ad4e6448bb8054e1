using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>The spec's stanzas (7.5.1–7.5.2) as a Smack terminal writes them.</summary>
public static class Stanzas
{
    public static string Mms(string id, string to, string text = "Hello, greeting from console C.", string? msgType = "1", string? extra = null,
        string domain = EmbeddedServer.Domain) =>
        $"<message id=\"{id}\" to=\"{to}@{domain}\"><subject>HELLO</subject>" +
        "<properties xmlns=\"http://www.jivesoftware.com/xmlns/xmpp/properties\">" +
        (msgType is null ? "" : $"<property><name>MsgType</name><value type=\"string\">{msgType}</value></property>") +
        $"<property><name>MsgText</name><value type=\"string\">{text}</value></property>" +
        "<property><name>original_image_attached</name><value type=\"string\">false</value></property>" +
        (extra ?? "") +
        "</properties><body>dGh1bWJuYWls</body></message>";

    public static string Ack(string id, string? returnCode = "1", string domain = EmbeddedServer.Domain) =>
        $"<message id=\"{id}\" to=\"ACK@{domain}\" type=\"chat\"><properties xmlns=\"http://www.jivesoftware.com/xmlns/xmpp/properties\">" +
        "<property><name>MsgType</name><value type=\"string\">2</value></property>" +
        (returnCode is null ? "" : $"<property><name>ReturnCode</name><value type=\"string\">{returnCode}</value></property>") +
        "</properties></message>";

    public static string Fail(string id, string returnCode, string domain = EmbeddedServer.Domain) =>
        $"<message id=\"{id}\" to=\"FAIL@{domain}\" type=\"chat\"><properties xmlns=\"http://www.jivesoftware.com/xmlns/xmpp/properties\">" +
        "<property><name>MsgType</name><value type=\"string\">3</value></property>" +
        $"<property><name>ReturnCode</name><value type=\"string\">{returnCode}</value></property>" +
        "</properties></message>";

    public static string? Property(XmlElement message, string name) => JiveProperties.Get(JiveProperties.Find(message), name);

    public static bool IsMessage(XmlElement element, string id) => element.Name == "message" && element.Attribute("id") == id;
}
