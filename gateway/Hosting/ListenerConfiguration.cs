using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Mmss.Gateway.C2s;
using Mmss.Gateway.S2s;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Hosting;

/// <summary>Kestrel hosts every listener: XMPP with STARTTLS, XMPP over direct TLS, HTTP, and optionally HTTPS.</summary>
public static class ListenerConfiguration
{
    public static void ConfigureMmssListeners(this KestrelServerOptions kestrel, IConfiguration configuration)
    {
        var c2s = configuration.GetSection(C2sOptions.Section).Get<C2sOptions>() ?? new C2sOptions();
        var http = configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        Validate(c2s);
        Validate(http);
        var c2sAddress = IPAddress.Parse(c2s.BindAddress);
        kestrel.Listen(c2sAddress, c2s.Port, listen => listen.Run(connection => Serve(listen, connection, directTls: false)));
        kestrel.Listen(c2sAddress, c2s.TlsPort, listen => listen.Run(connection => Serve(listen, connection, directTls: true)));
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

    private static Task Serve(ListenOptions listen, ConnectionContext connection, bool directTls) =>
        new C2sConnection(connection, listen.ApplicationServices.GetRequiredService<C2sServices>()).RunAsync(directTls);

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
