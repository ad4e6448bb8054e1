using System.ComponentModel.DataAnnotations;

namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss:WebSocket": XMPP over WebSocket (RFC 7395) on the HTTP listener, for browser consoles.</summary>
public sealed class XmppWebSocketOptions : IValidatableObject
{
    public const string Section = "Mmss:WebSocket";

    /// <summary>Serve the endpoint at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The endpoint's path; clients connect with subprotocol "xmpp".</summary>
    public string Path { get; set; } = "/xmpp-websocket";

    /// <summary>
    /// Origins ("https://dc.example.org", scheme://host[:port]) whose pages may open the endpoint besides the page's
    /// own origin; "*" allows any. Empty (default): same origin only, so that no other site's page can log in
    /// with a dispatcher's browser (cross-site WebSocket hijacking). Clients that send no Origin (not browsers) are let in.
    /// Behind a proxy that terminates TLS or rewrites Host, the page's public origin differs from the request's: list it here.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>WebSocket ping frames this often keep proxies from closing an idle console; 0 = none.</summary>
    [Range(0, 3600)]
    public int KeepAliveSeconds { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Path.StartsWith('/'))
            yield return new ValidationResult($"Mmss:WebSocket:Path '{Path}' must start with '/'.");
        foreach (var origin in AllowedOrigins)
        {
            if (origin == "*") continue;
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
                yield return new ValidationResult($"Mmss:WebSocket:AllowedOrigins '{origin}' is not an origin; write scheme://host[:port], e.g. https://dc.example.org, or *.");
        }
    }
}
