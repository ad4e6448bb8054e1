using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Mmss.Silo.Events;

/// <summary>Section Mmss:Mqtt: the MQTT event feed (issue #14). Off by default.</summary>
public sealed class MqttOptions
{
    public const string Section = "Mmss:Mqtt";
    public const int DefaultPort = 1883;

    /// <summary>Publish events at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>host:port of an external broker. Set: events go there. Unset (embedded mode only): the in-process broker.</summary>
    public string? Server { get; set; }

    /// <summary>The embedded broker's listening address.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>The embedded broker's port.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The embedded broker requires these of every client (the publisher included); for an external broker, optional.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The topics' and documents' domain; default the first of Mmss:Domains, else "localhost".</summary>
    public string? Domain { get; set; }

    /// <summary>Events waiting for the broker; when full the oldest is dropped (and counted).</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>External broker only: connect over TLS (MQTT's port 8883, usually), the broker's name checked against its certificate.</summary>
    public bool UseTls { get; set; }

    /// <summary>With UseTls: a PEM file of the CA certificate(s) the broker's certificate chains to; unset, the system's trusted roots.</summary>
    public string? CaCertificatePath { get; set; }
}

/// <summary>What the publisher and the broker run with, once the settings are read and checked.</summary>
public sealed record MqttSettings(
    string Host, int Port, string? Username, string? Password, string Domain, int QueueCapacity,
    bool EmbeddedBroker, string BindAddress, bool UseTls = false, string? CaCertificatePath = null)
{
    /// <summary>Null when events are disabled.</summary>
    /// <exception cref="OptionsValidationException">a setting is invalid; the message names it</exception>
    public static MqttSettings? Read(IConfiguration configuration, bool embeddedMode)
    {
        var options = configuration.GetSection(MqttOptions.Section).Get<MqttOptions>() ?? new MqttOptions();
        if (!options.Enabled) return null;
        var problems = new List<string>();
        var domain = string.IsNullOrWhiteSpace(options.Domain) ? configuration["Mmss:Domains:0"] : options.Domain;
        if (string.IsNullOrWhiteSpace(domain)) domain = "localhost";
        if (domain.IndexOfAny(['/', '+', '#']) >= 0) problems.Add("Mmss:Mqtt:Domain must not contain '/', '+' or '#'");
        if (options.QueueCapacity is < 1 or > 10_000_000) problems.Add("Mmss:Mqtt:QueueCapacity must be between 1 and 10000000");
        string host = "127.0.0.1";
        int port = options.Port;
        var embeddedBroker = string.IsNullOrWhiteSpace(options.Server);
        if (!embeddedBroker)
        {
            if (!TryParseServer(options.Server!, out host, out port))
                problems.Add($"Mmss:Mqtt:Server must be host:port (port 1-65535), not '{options.Server}'");
        }
        else if (!embeddedMode)
        {
            problems.Add("Mmss:Mqtt:Server (host:port of the broker) is required with Mmss:Mqtt:Enabled in cluster mode: silos publish only to an external broker");
        }
        else
        {
            if (options.Port is < 1 or > 65535) problems.Add("Mmss:Mqtt:Port must be between 1 and 65535");
            if (!System.Net.IPAddress.TryParse(options.BindAddress, out _)) problems.Add($"Mmss:Mqtt:BindAddress must be an IP address, not '{options.BindAddress}'");
            if (string.IsNullOrEmpty(options.Username)) problems.Add("Mmss:Mqtt:Username is required for the embedded MQTT broker (Mmss:Mqtt:Enabled without Mmss:Mqtt:Server)");
            if (string.IsNullOrEmpty(options.Password)) problems.Add("Mmss:Mqtt:Password is required for the embedded MQTT broker (Mmss:Mqtt:Enabled without Mmss:Mqtt:Server)");
            // The publisher reaches the in-process broker on loopback, whatever address it listens on.
            host = System.Net.IPAddress.TryParse(options.BindAddress, out var bind) && bind.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !bind.Equals(System.Net.IPAddress.IPv6Any)
                ? "::1" : "127.0.0.1";
        }
        var caPath = NullIfEmpty(options.CaCertificatePath);
        if (options.UseTls && embeddedBroker) problems.Add("Mmss:Mqtt:UseTls is for an external broker (Mmss:Mqtt:Server)");
        if (caPath is not null && !options.UseTls) problems.Add("Mmss:Mqtt:CaCertificatePath needs Mmss:Mqtt:UseTls=true");
        if (caPath is not null && !File.Exists(caPath)) problems.Add($"Mmss:Mqtt:CaCertificatePath: no such file '{caPath}'");
        if (problems.Count > 0) throw new OptionsValidationException(MqttOptions.Section, typeof(MqttOptions), problems);
        return new MqttSettings(host, port, NullIfEmpty(options.Username), NullIfEmpty(options.Password), domain, options.QueueCapacity,
            embeddedBroker, options.BindAddress, options.UseTls, caPath);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>"host:port", "[v6]:port", or a host alone (port 1883).</summary>
    public static bool TryParseServer(string server, out string host, out int port)
    {
        server = server.Trim();
        host = server;
        port = MqttOptions.DefaultPort;
        string? portText = null;
        if (server.StartsWith('['))
        {
            var close = server.IndexOf(']');
            if (close < 0) return false;
            host = server[1..close];
            var rest = server[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':') return false;
                portText = rest[1..];
            }
        }
        else if (server.Count(c => c == ':') == 1)
        {
            var colon = server.IndexOf(':');
            host = server[..colon];
            portText = server[(colon + 1)..];
        }
        if (host.Length == 0) return false;
        if (portText is null) return true;
        return int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
    }
}
