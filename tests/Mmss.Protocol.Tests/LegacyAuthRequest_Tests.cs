using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

/// <summary>XEP-0078 jabber:iq:auth queries as terminals send them.</summary>
public class LegacyAuthRequest_Tests
{
    private static LegacyAuthRequest Parse(string query) =>
        LegacyAuthRequest.Parse(XmlParser.ParseStanza(Encoding.UTF8.GetBytes($"<iq type='set' id='a'>{query}</iq>"), new NamespaceScope(Namespaces.Client)).FirstElement()!);

    [Fact]
    public void A_plaintext_login_has_username_password_and_resource()
    {
        var request = Parse("<query xmlns='jabber:iq:auth'><username>1101</username><password>pw &amp; more</password><resource>unit</resource></query>");
        Assert.Equal(new LegacyAuthRequest("1101", "pw & more", null, "unit"), request);
        Assert.True(request.IsComplete);
    }

    [Fact]
    public void A_digest_login_is_complete_without_a_password()
    {
        var request = Parse("<query xmlns='jabber:iq:auth'><username>1101</username><digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d</digest><resource>r</resource></query>");
        Assert.Null(request.Password);
        Assert.Equal("48fc78be9ec8f86d8ce1c39c320c97c21d62334d", request.Digest);
        Assert.True(request.IsComplete);
    }

    [Theory]
    [InlineData("<query xmlns='jabber:iq:auth'><username>1101</username></query>")]
    [InlineData("<query xmlns='jabber:iq:auth'><username>1101</username><password/><resource>r</resource></query>")]
    [InlineData("<query xmlns='jabber:iq:auth'><username>1101</username><password>pw</password></query>")]
    [InlineData("<query xmlns='jabber:iq:auth'><password>pw</password><resource>r</resource></query>")]
    public void A_query_missing_a_field_or_with_an_empty_one_is_incomplete(string query) =>
        Assert.False(Parse(query).IsComplete);

    [Fact]
    public void Fields_in_another_namespace_are_not_read()
    {
        var request = Parse("<query xmlns='jabber:iq:auth'><username xmlns='urn:other'>1101</username><password>pw</password><resource>r</resource></query>");
        Assert.Null(request.Username);
    }
}
