using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

public class JiveProperties_Tests
{
    private static XmlElement? Properties(string properties) =>
        JiveProperties.Find(XmlParser.ParseStanza(Encoding.UTF8.GetBytes(
            $"<message><properties xmlns='{Namespaces.JiveProperties}'>{properties}</properties></message>"), new NamespaceScope(Namespaces.Client)));

    private static string Property(string name, string value) =>
        $"<property><name>{name}</name><value type='string'>{value}</value></property>";

    [Theory]
    [InlineData("emergency", true)]
    [InlineData("EMERGENCY", true)]
    [InlineData("routine", false)]
    [InlineData("emergency-drill", false)]
    public void Is_compares_the_named_propertys_value_ignoring_case(string value, bool expected)
    {
        var properties = Properties(Property("MsgType", "1") + Property("Priority", value));
        Assert.Equal(expected, JiveProperties.Is(properties, "Priority", "emergency"));
    }

    [Fact]
    public void Is_is_false_when_the_property_is_absent_or_another_one_has_the_value()
    {
        Assert.False(JiveProperties.Is(null, "Priority", "emergency"));
        Assert.False(JiveProperties.Is(Properties(Property("MsgText", "emergency")), "Priority", "emergency"));
    }
}
