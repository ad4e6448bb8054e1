using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.Grains.Diagnostics;

namespace Mmss.Silo.Diagnostics;

/// <summary>
/// Mmss:Logging:Format: <c>text</c> (the default: ASP.NET Core's console format) or <c>json</c> (one JSON object per
/// line, UTC timestamps, with the scopes — UDN, message id, connection id — as fields), for log collectors.
/// </summary>
public static class LogFormat
{
    public const string Key = "Mmss:Logging:Format";

    /// <exception cref="OptionsValidationException">the format is neither text nor json</exception>
    public static ILoggingBuilder AddMmssLogFormat(this ILoggingBuilder logging, IConfiguration configuration)
    {
        var format = configuration[Key];
        var text = string.IsNullOrWhiteSpace(format) || format.Equals("text", StringComparison.OrdinalIgnoreCase);
        if (!text && !format!.Equals("json", StringComparison.OrdinalIgnoreCase))
            throw new OptionsValidationException(Key, typeof(string), [$"{Key} must be 'text' or 'json', not '{format}'"]);
        // The console's own switch, read as its options would read it (a formatter named json included).
        var consoleScopes = configuration.GetValue<bool>("Logging:Console:FormatterOptions:IncludeScopes")
            || configuration.GetValue<bool>("Logging:Console:IncludeScopes");
        logging.Services.AddSingleton(new LogScopes(written: !text || consoleScopes));
        if (text) return logging;
        return logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });
    }
}
