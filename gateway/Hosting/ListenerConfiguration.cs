using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Mmss.Gateway.C2s;
using Mmss.Gateway.S2s;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Hosting;

/// <summary>
/// Kestrel's listeners: HTTP, optionally HTTPS, and server-to-server XMPP. The client XMPP listeners are
/// <see cref="C2sListener"/>'s; their options are checked here too, so that a bad value stops the start before anything binds.
/// </summary>
public static class ListenerConfiguration
{
    public static void ConfigureMmssListeners(this KestrelServerOptions kestrel, IConfiguration configuration)
    {
        var c2s = configuration.GetSection(C2sOptions.Section).Get<C2sOptions>() ?? new C2sOptions();
        var http = configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        Validate(c2s);
        Validate(http);
        kestrel.Listen(IPAddress.Parse(http.BindAddress), http.Port);
        kestrel.ConfigureMmssS2sListener(configuration);
        // The console and its WebSocket over TLS, with the XMPP certificate (resolved at the first handshake, once the host is built).
        if (http.TlsPort != 0)
        {
            kestrel.Listen(IPAddress.Parse(http.BindAddress), http.TlsPort, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificateSelector = (_, _) => listen.ApplicationServices.GetRequiredService<ServerCertificateHolder>().Certificate,
            }));
        }
    }

    private static void Validate(object options)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(options.GetType().Name, options.GetType(),
                results.Select(r => r.ErrorMessage ?? "invalid"));
        }
    }
}
