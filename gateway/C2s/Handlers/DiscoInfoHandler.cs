using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>XEP-0030 disco#info of the server: identity and the features the handlers implement.</summary>
public sealed class DiscoInfoHandler(IServiceProvider services) : IIqHandler
{
    public string Element => "query";
    public string Namespace => Namespaces.DiscoInfo;
    public string? Feature => Namespaces.DiscoInfo;

    public ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload)
    {
        if (iq.Attribute("type") != "get") return connection.SendAsync(StanzaErrors.Reply(iq, "not-allowed", "cancel", connection.Domain));
        var result = connection.ResultFor(iq);
        var query = result.AddElement("query", Namespaces.DiscoInfo);
        if (payload.Attribute("node") is { } node) query.SetAttribute("node", node);
        query.AddElement("identity").SetAttribute("category", "server").SetAttribute("type", "im").SetAttribute("name", "Mmss.Orleans MMSS");
        // Resolved here rather than injected: the router is built from all handlers, this one included.
        foreach (var feature in services.GetRequiredService<IqRouter>().Features)
        {
            query.AddElement("feature").SetAttribute("var", feature);
        }
        return connection.SendAsync(result);
    }
}
