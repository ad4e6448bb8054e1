using System.Security.Cryptography;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>Resource binding (RFC 6120 §7): the client's resource, or one generated when it asks for none.</summary>
public sealed class BindHandler : IIqHandler
{
    private const int MaxResourceLength = 1023;

    public string Element => "bind";
    public string Namespace => Namespaces.Bind;
    public string? Feature => null;
    public bool RequiresBoundSession => false;

    /// <summary>RFC 6120 §7.7.2.1 in short: a resourcepart of at most 1023 characters and no control characters.</summary>
    public static bool IsValidResource(string resource) => resource.Length <= MaxResourceLength && !resource.Any(char.IsControl);

    public async ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload)
    {
        if (iq.Attribute("type") != "set" || connection.IsBound)
        {
            await connection.SendAsync(StanzaErrors.Reply(iq, "not-allowed", "cancel", connection.Domain));
            return;
        }
        var resource = payload.Element("resource", Namespaces.Bind)?.Text.Trim();
        if (string.IsNullOrEmpty(resource)) resource = "mmss-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        if (!IsValidResource(resource))
        {
            await connection.SendAsync(StanzaErrors.BadRequest(iq, connection.Domain));
            return;
        }
        var jid = connection.Bind(resource);
        var result = connection.ResultFor(iq);
        result.AddElement("bind", Namespaces.Bind).AddElement("jid", text: jid);
        await connection.SendAsync(result);
        await connection.Session!.AttachToUserAsync();
    }
}
