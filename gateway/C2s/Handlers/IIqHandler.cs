using Mmss.Protocol.Xml;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>Handles iq get/set whose payload is one (element, namespace). Unhandled payloads get service-unavailable.</summary>
public interface IIqHandler
{
    string Element { get; }

    string Namespace { get; }

    /// <summary>The disco#info feature var this handler implements, if any.</summary>
    string? Feature { get; }

    /// <summary>False for the iqs a client may send between authentication and resource binding.</summary>
    bool RequiresBoundSession => true;

    /// <summary>True for the iqs a client may send before it authenticates (XEP-0077 registration, XEP-0078 login).</summary>
    bool AllowedBeforeAuthentication => false;

    ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload);
}
