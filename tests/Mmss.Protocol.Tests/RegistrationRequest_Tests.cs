using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

/// <summary>XEP-0077 jabber:iq:register sets: fixed fields, data forms, cancellation.</summary>
public class RegistrationRequest_Tests
{
    private static RegistrationRequest Parse(string query) =>
        RegistrationRequest.Parse(XmlParser.ParseStanza(Encoding.UTF8.GetBytes($"<iq type='set' id='r'>{query}</iq>"), new NamespaceScope(Namespaces.Client)).FirstElement()!);

    [Fact]
    public void Fixed_fields_give_username_password_and_the_token_in_key()
    {
        Assert.Equal(new RegistrationRequest(false, "1101", "pw", "tok"),
            Parse("<query xmlns='jabber:iq:register'><username>1101</username><password>pw</password><key>tok</key></query>"));
    }

    [Fact]
    public void A_submitted_form_takes_precedence_over_fixed_fields()
    {
        var request = Parse("<query xmlns='jabber:iq:register'><username>ignored</username>" +
                            "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>jabber:iq:register</value></field>" +
                            "<field var='username'><value>1102</value></field><field var='password'><value>pw2</value></field>" +
                            "<field var='token'><value>tok2</value></field></x></query>");
        Assert.Equal(new RegistrationRequest(false, "1102", "pw2", "tok2"), request);
    }

    [Fact]
    public void A_form_that_is_not_submitted_is_not_read()
    {
        var request = Parse("<query xmlns='jabber:iq:register'><username>1103</username><password>pw</password>" +
                            "<x xmlns='jabber:x:data' type='form'><field var='username'><value>other</value></field></x></query>");
        Assert.Equal("1103", request.Username);
    }

    [Fact]
    public void Remove_is_a_cancellation()
    {
        var request = Parse("<query xmlns='jabber:iq:register'><remove/></query>");
        Assert.True(request.Remove);
        Assert.Null(request.Username);
    }

    [Fact]
    public void Empty_fields_and_form_fields_without_a_value_are_absent()
    {
        Assert.Equal(new RegistrationRequest(false, null, null, null),
            Parse("<query xmlns='jabber:iq:register'><username/><password></password></query>"));
        Assert.Equal(new RegistrationRequest(false, null, "pw", null),
            Parse("<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='username'/>" +
                  "<field var='password'><value>pw</value></field></x></query>"));
    }
}
