using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.WebSocket;

public static class WebSocketServiceCollectionExtensions
{
    /// <summary>XMPP over WebSocket's options, validated at start like every other section.</summary>
    public static IServiceCollection AddXmppWebSocket(this IServiceCollection services)
    {
        services.AddOptions<XmppWebSocketOptions>().BindConfiguration(XmppWebSocketOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
