using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Mmss.Silo.Diagnostics;

/// <summary>Section Mmss:Metrics: the Prometheus scraping endpoint <c>/metrics</c> of both executables.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Mmss:Metrics";

    /// <summary>Serve /metrics at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gateway: 0 serves /metrics on the HTTP port (Mmss:Http:Port); another port serves it on a listener of its own, and
    /// only there — for a gateway whose HTTP port is public (attachments), so that metrics stay on the pod network.
    /// The silo serves it on its health port.
    /// </summary>
    public int Port { get; set; }

    /// <summary>The address of that listener.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <exception cref="OptionsValidationException">a setting is invalid; the message names it</exception>
    public static MetricsOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var problems = new List<string>();
        if (options.Port is < 0 or > 65535) problems.Add($"{Section}:Port must be between 0 (the HTTP port) and 65535");
        if (!IPAddress.TryParse(options.BindAddress, out _)) problems.Add($"{Section}:BindAddress '{options.BindAddress}' is not an IP address");
        if (problems.Count > 0) throw new OptionsValidationException(Section, typeof(MetricsOptions), problems);
        return options;
    }
}
