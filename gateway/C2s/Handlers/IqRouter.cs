using System.Collections.Frozen;
using Mmss.Protocol.Xml;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>The handler table: (payload element, namespace) → handler, as Prosody routes iq by its child.</summary>
public sealed class IqRouter(IEnumerable<IIqHandler> handlers)
{
    private readonly FrozenDictionary<(string, string), IIqHandler> _handlers =
        handlers.ToFrozenDictionary(h => (h.Element, h.Namespace));

    public IEnumerable<string> Features => _handlers.Values.Select(h => h.Feature).OfType<string>().Distinct().Order(StringComparer.Ordinal);

    public IIqHandler? Find(XmlElement payload) => _handlers.GetValueOrDefault((payload.Name, payload.Namespace));
}
