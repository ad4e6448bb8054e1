using Mmss.Protocol.Xml;

namespace Mmss.Protocol.Xmpp;

/// <summary>
/// An XEP-0077 jabber:iq:register set: a cancellation (&lt;remove/&gt;), or username and password, given as the fixed
/// fields or as a submitted data form (XEP-0077 §6, FORM_TYPE jabber:iq:register). The registration token of the Admin
/// policy travels in the form field 'token' or, for clients without data forms, in the fixed field &lt;key/&gt;.
/// </summary>
public sealed record RegistrationRequest(bool Remove, string? Username, string? Password, string? Token)
{
    public const string TokenField = "token";

    public static RegistrationRequest Parse(XmlElement query)
    {
        var remove = query.Element("remove", Namespaces.Register) is not null;
        var form = query.Element("x", Namespaces.DataForms);
        if (form is not null && form.Attribute("type") == "submit")
        {
            return new RegistrationRequest(remove, FormField(form, "username"), FormField(form, "password"), FormField(form, TokenField));
        }
        return new RegistrationRequest(remove, Field(query, "username"), Field(query, "password"), Field(query, "key"));
    }

    private static string? Field(XmlElement query, string name) =>
        query.Element(name, Namespaces.Register)?.Text is { Length: > 0 } text ? text : null;

    private static string? FormField(XmlElement form, string var)
    {
        foreach (var field in form.Elements)
        {
            if (field.Name == "field" && field.Namespace == Namespaces.DataForms && field.Attribute("var") == var)
                return field.Element("value", Namespaces.DataForms)?.Text is { Length: > 0 } text ? text : null;
        }
        return null;
    }
}
