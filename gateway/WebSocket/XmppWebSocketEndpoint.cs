using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.WebSocket;

/// <summary>
/// XMPP over WebSocket (RFC 7395) on the HTTP listener: the handshake's checks (subprotocol, Origin, a secure or
/// local transport), then the same <see cref="C2sConnection"/> a TCP terminal gets, behind a framing bridge.
/// </summary>
public static class XmppWebSocketEndpoint
{
    public static WebApplication MapXmppWebSocket(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<XmppWebSocketOptions>>().Value;
        if (!options.Enabled) return app;
        app.UseWebSockets();
        app.Map(options.Path, (HttpContext context, C2sServices services, ILoggerFactory loggers) =>
            HandleAsync(context, services, options, loggers.CreateLogger("Mmss.WebSocket")));
        return app;
    }

    private static async Task HandleAsync(HttpContext context, C2sServices services, XmppWebSocketOptions options, ILogger log)
    {
        var (accepted, status, reason) = Admit(context, services, options);
        if (!accepted)
        {
            log.LogInformation("WebSocket handshake from {Address} refused ({Status}): {Reason}", context.Connection.RemoteIpAddress, status, reason);
            context.Response.StatusCode = status;
            await context.Response.WriteAsync(reason + "\n");
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = Rfc7395Framing.Subprotocol,
            KeepAliveInterval = options.KeepAliveSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(options.KeepAliveSeconds),
        });
        log.LogDebug("WebSocket connection {ConnectionId} from {Address} accepted ({Reason})", context.Connection.Id, context.Connection.RemoteIpAddress, reason);
        var bridge = new XmppWebSocketBridge(socket, services.Options.MaxStanzaBytes, services.Domains.Default, context.Connection.Id, log);
        var remote = context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, context.Connection.RemotePort) : null;
        // RFC 7395 §3.8: no STARTTLS over WebSocket; the transport is wss://, loopback, or plaintext the operator allowed.
        var connection = new C2sConnection(bridge.Transport, remote, services, transportSecured: true, overWebSocket: true);
        await bridge.RunAsync(connection.RunAsync(directTls: false), context.RequestAborted);
    }

    /// <summary>Whether to upgrade; the HTTP status and a reason a person can act on when not.</summary>
    private static (bool Accepted, int Status, string Reason) Admit(HttpContext context, C2sServices services, XmppWebSocketOptions options)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            return (false, StatusCodes.Status426UpgradeRequired, "XMPP over WebSocket (RFC 7395): open a WebSocket with subprotocol 'xmpp'");
        if (!context.WebSockets.WebSocketRequestedProtocols.Contains(Rfc7395Framing.Subprotocol))
            return (false, StatusCodes.Status400BadRequest, "the WebSocket subprotocol 'xmpp' is required (RFC 7395 §3.1)");
        var (originAllowed, originReason) = OriginPolicy.Check(context.Request, options);
        if (!originAllowed) return (false, StatusCodes.Status403Forbidden, originReason);
        var loopback = context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
        if (!context.Request.IsHttps && !loopback && !services.Options.AllowPlaintext)
        {
            return (false, StatusCodes.Status403Forbidden,
                "XMPP over plain ws:// is accepted from this machine only: use wss:// (set Mmss:Http:TlsPort), or allow plaintext with Mmss:C2s:AllowPlaintext");
        }
        if (services.Readiness.IsStopping) return (false, StatusCodes.Status503ServiceUnavailable, "the server is shutting down");
        return (true, StatusCodes.Status101SwitchingProtocols, originReason);
    }
}
