using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.WebSocket;

/// <summary>
/// Which pages may open the XMPP WebSocket. A browser sends its page's Origin with every WebSocket handshake and
/// lets any site's script connect anywhere, so without this check another site could log in as a dispatcher
/// whose browser holds a session (cross-site WebSocket hijacking, RFC 6455 §10.2).
/// </summary>
public static class OriginPolicy
{
    public static (bool Allowed, string Reason) Check(HttpRequest request, XmppWebSocketOptions options)
    {
        var origin = request.Headers.Origin.ToString();
        // Not a browser: nothing ambient to hijack, and such clients prove who they are with SASL like any TCP client.
        if (string.IsNullOrEmpty(origin)) return (true, "no Origin header");
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return (false, $"Origin '{origin}' is not an origin");
        var own = $"{request.Scheme}://{request.Host.Value}";
        if (SameOrigin(uri, own)) return (true, "same origin");
        foreach (var allowed in options.AllowedOrigins)
        {
            if (allowed == "*") return (true, "any origin allowed");
            if (SameOrigin(uri, allowed)) return (true, $"origin {allowed} allowed");
        }
        return (false, $"Origin {origin} is neither this server's ({own}) nor in Mmss:WebSocket:AllowedOrigins");
    }

    private static bool SameOrigin(Uri origin, string other) =>
        Uri.TryCreate(other, UriKind.Absolute, out var uri)
        && string.Equals(origin.Scheme, uri.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(origin.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase)
        && origin.Port == uri.Port;
}
